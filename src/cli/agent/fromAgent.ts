// The one call a command makes to use the agent: its answer, or undefined to go on without it (no
// agent for this profile, or --no-agent). An agent's refusal fails the command with its one line.
import { fail, note, type CommonOptions } from '../context.ts';
import { askAgent } from './client.ts';
import type { AgentOp } from './protocol.ts';

export async function fromAgent<T>(opts: CommonOptions, op: AgentOp, workspace: string | undefined, args?: Record<string, unknown>): Promise<T | undefined> {
  if (!opts.agent) return undefined;
  const r = await askAgent(op, args, { home: opts.home, ...(workspace !== undefined ? { workspace } : {}), warn: (m) => note(`cloister: ${m}`) });
  if (r === undefined) return undefined;
  if (!r.ok) fail(r.message);
  return r.value as T;
}
