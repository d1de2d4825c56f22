// One position of the membership chain as stored and served: the author-signed entry plus the
// relay's countersignature (DESIGN → Membership log). The relay signs
//   DOMAIN.logCountersign ‖ workspace ‖ u64 index ‖ entry hash(32) ‖ prev hash(32, or empty at 0)
// so a client holding two countersigned entries for one index holds proof that the relay forked
// the log. link = u8 version ‖ bytes(entry) ‖ bytes(countersignature: 64, or empty before the
// relay has seen it, which only a founder's unpublished create entry may be).
import { ByteReader, ByteWriter, fromBase64url } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { sign, verify } from '../../crypto/ed25519.ts';
import type { PublicKey, SigningSecretKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { decodeEntry, MAX_ENTRY_BYTES, type Entry } from './entry.ts';
import type { WorkspaceRejection } from './rejections.ts';

/** 2, so that a stored format-1 entry (first byte 1) is recognised as such, not misread as a link. */
export const LINK_VERSION = 2;

export interface Link {
  entry: Entry;
  /** The relay's countersignature; undefined for an entry the relay has not sequenced yet. */
  countersig?: Uint8Array;
  bytes: Uint8Array;
}

function countersignedPart(e: Entry): Uint8Array {
  const prev = e.body.prev === '' ? new Uint8Array() : fromBase64url(e.body.prev)!;
  return new ByteWriter().string(e.body.ws).u64(e.body.index).raw(fromBase64url(e.id)!).bytes(prev).finish();
}

export function countersign(relayKey: SigningSecretKey, e: Entry): Uint8Array {
  return sign(relayKey, DOMAIN.logCountersign, countersignedPart(e));
}

export function verifyCountersig(relayPub: PublicKey, e: Entry, sig: Uint8Array): boolean {
  return sig.length === 64 && verify(relayPub, DOMAIN.logCountersign, countersignedPart(e), sig);
}

export function encodeLink(entryBytes: Uint8Array, countersig?: Uint8Array): Uint8Array {
  return new ByteWriter().u8(LINK_VERSION).bytes(entryBytes).bytes(countersig ?? new Uint8Array()).finish();
}

/** Strictly decode untrusted link bytes (framing and the entry; not the signatures). */
export function decodeLink(bytes: Uint8Array): Result<Link, WorkspaceRejection> {
  if (!(bytes instanceof Uint8Array)) return fail('entry_malformed');
  const r = new ByteReader(bytes);
  const v = r.u8();
  if (v === undefined) return fail('entry_malformed');
  if (v === 1) return fail('log_format_v1');
  if (v !== LINK_VERSION) return fail('entry_wrong_version');
  const entryBytes = r.bytes(MAX_ENTRY_BYTES);
  const sig = r.bytes(64);
  if (!entryBytes || !sig || (sig.length !== 0 && sig.length !== 64) || r.remaining !== 0) return fail('entry_malformed');
  const d = decodeEntry(entryBytes.slice());
  if (!d.ok) return d;
  return ok({ entry: d.value, ...(sig.length ? { countersig: sig.slice() } : {}), bytes });
}
