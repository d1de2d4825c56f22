// Signatures an asynchronous verifier (WebCrypto, ed25519WebCrypto.ts) has accepted, so that the
// synchronous verifyRaw finds them and skips the slow pure-JS path. Only acceptances are kept, each as
// the exact (public key, message, signature) bytes: a hit needs all three equal, so nothing unverified
// can borrow a verdict. Bounded by bytes held; the oldest entries go first.

const MAX_BYTES = 32 * 1024 * 1024;

interface Entry {
  publicKey: Uint8Array;
  message: Uint8Array;
}

const entries = new Map<string, Entry[]>();
let held = 0;

const keyOf = (signature: Uint8Array): string => {
  let s = '';
  for (const b of signature) s += b.toString(16).padStart(2, '0');
  return s;
};

const same = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** Remember that (publicKey, message, signature) verified strictly. Copies the bytes. */
export function rememberVerified(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  const k = keyOf(signature);
  const list = entries.get(k) ?? [];
  if (list.some((e) => same(e.publicKey, publicKey) && same(e.message, message))) return;
  list.push({ publicKey: publicKey.slice(), message: message.slice() });
  entries.delete(k); // re-insert: the map's order is oldest first
  entries.set(k, list);
  held += message.length + 96;
  while (held > MAX_BYTES && entries.size > 0) {
    const [oldest, es] = entries.entries().next().value as [string, Entry[]];
    entries.delete(oldest);
    for (const e of es) held -= e.message.length + 96;
  }
}

/** Was exactly this triple accepted by a strict asynchronous verifier? */
export function wasVerified(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (entries.size === 0) return false;
  const list = entries.get(keyOf(signature));
  return !!list?.some((e) => same(e.publicKey, publicKey) && same(e.message, message));
}

/** Forget everything (tests and measurements). */
export function forgetVerified(): void {
  entries.clear();
  held = 0;
}
