// The agent's wire protocol (docs/VAULT.md → The agent): one JSON request line per connection over
// the agent's Unix socket, one JSON response line back. Requests are untrusted input: the agent checks
// them with requestSchema.ts (zod, loaded only in the agent) and answers a bad one with a reason code.
// This module stays tiny: every CLI command that asks the agent loads it.

export const AGENT_PROTOCOL = 1;
/** Largest request line the agent reads (a record add carries its notes). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** Largest response line a client reads (a list of many records with details). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export const AGENT_OPS = ['ping', 'lock', 'record.list', 'record.get', 'record.add', 'record.edit', 'record.rm', 'record.restore', 'record.resolve', 'status'] as const;
export type AgentOp = (typeof AGENT_OPS)[number];

/** Every reason the agent (or a client talking to it) gives, in words. A refused record operation passes on its own code (RecordErrorCode, EditRefusedError's code, lease_expired, a DamageReason). */
export const AGENT_REASONS = {
  request_too_large: `the request is larger than ${MAX_REQUEST_BYTES} bytes`,
  request_malformed: 'the request is not one line of JSON in the agent protocol',
  request_version: 'the request speaks another version of the agent protocol',
  request_timeout: 'the request did not arrive in time',
  agent_other_profile: 'the agent holds another profile (--home)',
  agent_other_workspace: 'the agent holds another workspace of this profile',
  agent_locking: 'the agent is locking',
  agent_socket_unsafe: 'the agent socket or its directory is not private to this user',
  agent_unreachable: 'the agent did not answer',
  agent_running: 'an agent is already running for this profile',
  record_ambiguous: 'the id prefix matches several records',
  record_not_found: 'no such record',
  lease_expired: 'editing is locked until the next sync',
  internal: 'the agent failed to answer (see its log)',
} as const;
export type AgentReason = keyof typeof AGENT_REASONS;

export interface AgentRequest {
  v: typeof AGENT_PROTOCOL;
  op: AgentOp;
  /** The profile the command runs on (absolute path): the agent answers only for its own. */
  home: string;
  /** --workspace as given, if it was. */
  workspace?: string;
  args?: Record<string, unknown>;
}

export type AgentResponse = { ok: true; value: unknown } | { ok: false; reason: string; message: string };

/** A response line, checked for shape (the agent is ours, but a socket is still bytes). */
export function parseResponse(line: string): AgentResponse | undefined {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  if (r.ok === true && 'value' in r) return { ok: true, value: r.value };
  if (r.ok === false && typeof r.reason === 'string' && typeof r.message === 'string') return { ok: false, reason: r.reason, message: r.message };
  return undefined;
}
