// The plaintext body of a change envelope: a count-prefixed list of raw Automerge change bytes.
// body = u32(count) ‖ count × (u32(len) ‖ change)
import { fail, ok, type Result } from '../../crypto/result.ts';

/** A generous bound; the envelope size limit is the real one. */
export const MAX_CHANGES_PER_ENVELOPE = 1 << 20;

export function encodeChanges(changes: readonly Uint8Array[]): Uint8Array {
  // One allocation: this runs on every flush, over every change.
  let total = 4;
  for (const c of changes) total += 4 + c.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, changes.length);
  let off = 4;
  for (const c of changes) {
    view.setUint32(off, c.length);
    out.set(c, off + 4);
    off += 4 + c.length;
  }
  return out;
}

export function decodeChanges(body: Uint8Array): Result<Uint8Array[], 'changes_malformed'> {
  if (body.length < 4) return fail('changes_malformed', 'count');
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const count = view.getUint32(0);
  if (count > MAX_CHANGES_PER_ENVELOPE || count > (body.length - 4) / 4) return fail('changes_malformed', 'count');
  const out: Uint8Array[] = new Array(count);
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + 4 > body.length) return fail('changes_malformed', `change ${i}`);
    const len = view.getUint32(off);
    off += 4;
    if (len > body.length - off) return fail('changes_malformed', `change ${i}`);
    out[i] = body.subarray(off, off + len);
    off += len;
  }
  if (off !== body.length) return fail('changes_malformed', 'trailing bytes');
  return ok(out);
}
