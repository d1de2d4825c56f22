// The plaintext body of a change envelope: a count-prefixed list of raw Automerge change bytes.
// body = u32(count) ‖ count × (u32(len) ‖ change)
import { ByteReader, ByteWriter } from '../../crypto/bytes.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';

/** A generous bound; the envelope size limit is the real one. */
export const MAX_CHANGES_PER_ENVELOPE = 1 << 20;

export function encodeChanges(changes: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter().u32(changes.length);
  for (const c of changes) w.bytes(c);
  return w.finish();
}

export function decodeChanges(body: Uint8Array): Result<Uint8Array[], 'changes_malformed'> {
  const r = new ByteReader(body);
  const count = r.u32();
  if (count === undefined || count > MAX_CHANGES_PER_ENVELOPE) return fail('changes_malformed', 'count');
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const c = r.bytes(body.length);
    if (c === undefined) return fail('changes_malformed', `change ${i}`);
    out.push(c);
  }
  if (r.remaining !== 0) return fail('changes_malformed', 'trailing bytes');
  return ok(out);
}
