// The agent's requests, checked field by field (zod) before anything acts on them: a request is
// untrusted bytes from whoever can open the socket. Loaded only in the agent process.
import { z } from 'zod';
import { AGENT_PROTOCOL, type AgentReason } from './protocol.ts';

const text = (max: number) => z.string().max(max);
const id = text(200).min(1);
/** Fields travel as [key, value] pairs: no object key on the wire can reach a prototype. */
const fieldPairs = <V extends z.ZodType>(value: V) => z.array(z.tuple([text(200), value])).max(10_000);
const tags = z.array(text(1000)).max(10_000);
const base = { v: z.literal(AGENT_PROTOCOL), home: text(4096).min(1), workspace: text(1000).min(1).optional() };
const req = <N extends string>(name: N) => ({ ...base, op: z.literal(name) });

export const requestSchema = z.discriminatedUnion('op', [
  z.strictObject(req('ping')),
  z.strictObject(req('lock')),
  z.strictObject(req('status')),
  z.strictObject({ ...req('record.list'), args: z.strictObject({ includeDeleted: z.boolean().optional(), onlyDeleted: z.boolean().optional(), details: z.boolean().optional() }) }),
  z.strictObject({ ...req('record.get'), args: z.strictObject({ id }) }),
  z.strictObject({ ...req('record.add'), args: z.strictObject({ title: text(10_000), fields: fieldPairs(text(1_000_000)), tags, notes: text(3_000_000).optional() }) }),
  z.strictObject({
    ...req('record.edit'),
    args: z.strictObject({ id, title: text(10_000).optional(), fields: fieldPairs(text(1_000_000).nullable()).optional(), tags: tags.optional(), notes: text(3_000_000).optional() }),
  }),
  z.strictObject({ ...req('record.rm'), args: z.strictObject({ id }) }),
  z.strictObject({ ...req('record.restore'), args: z.strictObject({ id }) }),
  z.strictObject({ ...req('record.resolve'), args: z.strictObject({ id, title: text(10_000).optional(), fields: fieldPairs(text(1_000_000)) }) }),
]);
export type CheckedRequest = z.infer<typeof requestSchema>;

/** A request line → a checked request, or the reason and one line saying what is wrong. */
export function checkRequest(line: string): { ok: true; value: CheckedRequest } | { ok: false; reason: AgentReason; message: string } {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'request_malformed', message: 'the request is not JSON' };
  }
  if (typeof x === 'object' && x !== null && 'v' in x && (x as { v: unknown }).v !== AGENT_PROTOCOL)
    return { ok: false, reason: 'request_version', message: `the request speaks protocol version ${JSON.stringify((x as { v: unknown }).v).slice(0, 20)}, this agent ${AGENT_PROTOCOL}` };
  const r = requestSchema.safeParse(x);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: 'request_malformed', message: `the request is malformed${issue ? ` at ${issue.path.join('.') || '(top)'}: ${issue.message}` : ''}` };
  }
  return { ok: true, value: r.data };
}
