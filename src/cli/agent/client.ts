// A CLI command asking the profile's agent: connect to its socket (only one private to this user),
// send one request line, read one response line. No agent, or one holding another profile, means
// "unlock yourself": the caller then asks for the password as without an agent.
import { connect } from 'node:net';
import { AGENT_PROTOCOL, MAX_RESPONSE_BYTES, parseResponse, type AgentOp, type AgentRequest, type AgentResponse } from './protocol.ts';
import { candidateSockets, unsafeSocket } from './socketPath.ts';

/** Reasons that send the command to the next socket, or to unlocking on its own. */
const PASS_ON = new Set(['agent_other_profile', 'agent_other_workspace', 'agent_locking']);

export interface AskOptions {
  home: string;
  workspace?: string;
  /** Said once per unsafe socket skipped (a warning on stderr). */
  warn?: (message: string) => void;
  timeoutMs?: number;
}

/**
 * The agent's answer to `op`, or undefined when no agent for this profile answers (none runs, its
 * socket is stale or unsafe, or it holds another profile or workspace).
 */
export async function askAgent(op: AgentOp, args: Record<string, unknown> | undefined, o: AskOptions): Promise<AgentResponse | undefined> {
  const request: AgentRequest = { v: AGENT_PROTOCOL, op, home: o.home, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}), ...(args ? { args } : {}) };
  for (const path of candidateSockets(o.home)) {
    const unsafe = unsafeSocket(path);
    if (unsafe) {
      o.warn?.(`not using the agent socket: ${unsafe} [agent_socket_unsafe]`);
      continue;
    }
    const r = await exchange(path, request, o.timeoutMs ?? 120_000);
    if (r === undefined || (!r.ok && PASS_ON.has(r.reason))) continue;
    return r;
  }
  return undefined;
}

/** One request and its response over `path`; undefined when nothing listens there. */
export function exchange(path: string, request: AgentRequest, timeoutMs: number): Promise<AgentResponse | undefined> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (r: AgentResponse | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'agent_unreachable', message: `the agent at ${path} did not answer within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (b: Buffer) => {
      const nl = b.indexOf(0x0a);
      chunks.push(nl >= 0 ? b.subarray(0, nl) : b);
      size += b.length;
      if (nl >= 0) {
        const parsed = parseResponse(Buffer.concat(chunks).toString('utf8'));
        done(parsed ?? { ok: false, reason: 'agent_unreachable', message: `the agent at ${path} answered something that is not a response` });
      } else if (size > MAX_RESPONSE_BYTES) done({ ok: false, reason: 'agent_unreachable', message: `the agent at ${path} answered more than ${MAX_RESPONSE_BYTES} bytes` });
    });
    // ENOENT / ECONNREFUSED: no agent (or a stale socket of one that died): unlock on our own.
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
  });
}
