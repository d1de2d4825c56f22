// X25519 sealed boxes ("lockboxes") for sharing a key with one device (DESIGN → Key agreement).
// A fresh ephemeral sender key per box; the AEAD key is HKDF-SHA256 of the shared secret; the
// associated data binds the recipient's public key and the caller's context, so a box addressed to
// one device or purpose can't be passed off as another's.
import { x25519 } from '@noble/curves/ed25519.js';
import { openBytes, sealBytes } from './aead.ts';
import { ByteWriter, concat, randomBytes, wipe } from './bytes.ts';
import { DOMAIN, INFO } from './domains.ts';
import { deriveSubkey } from './hkdf.ts';
import { asKey, type AeadKey, type BoxSecretKey, type PublicKey } from './keys.ts';
import { fail, ok, type Result } from './result.ts';

export type LockboxFailure = 'lockbox_malformed' | 'lockbox_not_for_me' | 'lockbox_bad_key';

export function generateBoxKey(): { secretKey: BoxSecretKey; publicKey: PublicKey } {
  const secretKey = asKey<BoxSecretKey>(randomBytes(32));
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function boxPublicKeyOf(secretKey: BoxSecretKey): PublicKey {
  return x25519.getPublicKey(secretKey);
}

/** Raw X25519, for Wycheproof vector tests. Throws on low-order results (noble's default). */
export const rawX25519 = (secret: Uint8Array, pub: Uint8Array): Uint8Array => x25519.getSharedSecret(secret, pub);

function boxKey(shared: Uint8Array, ephPub: Uint8Array, recipientPub: Uint8Array, context: Uint8Array): AeadKey {
  return deriveSubkey<AeadKey>(shared, INFO.lockboxKey, new ByteWriter().bytes(ephPub).bytes(recipientPub).bytes(context).finish());
}

/** Seal `secret` to the holder of `recipientPub`. Output: ephemeral public key(32) ‖ sealed AEAD bytes. */
export function sealLockbox(recipientPub: PublicKey, secret: Uint8Array, context: Uint8Array): Uint8Array {
  const eph = generateBoxKey();
  const shared = x25519.getSharedSecret(eph.secretKey, recipientPub);
  const key = boxKey(shared, eph.publicKey, recipientPub, context);
  const sealed = sealBytes(key, secret, DOMAIN.lockbox, concat(recipientPub, context));
  wipe(eph.secretKey, shared, key);
  return concat(eph.publicKey, sealed);
}

export function openLockbox(recipient: BoxSecretKey, box: Uint8Array, context: Uint8Array): Result<Uint8Array, LockboxFailure> {
  if (!(box instanceof Uint8Array) || box.length < 32 + 1 + 24 + 32 + 16) return fail('lockbox_malformed');
  const ephPub = box.subarray(0, 32);
  const myPub = x25519.getPublicKey(recipient);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(recipient, ephPub);
  } catch {
    return fail('lockbox_bad_key');
  }
  const key = boxKey(shared, ephPub, myPub, context);
  const opened = openBytes(key, box.subarray(32), DOMAIN.lockbox, concat(myPub, context));
  wipe(shared, key);
  return opened.ok ? ok(opened.value) : fail(opened.reason === 'aead_malformed' ? 'lockbox_malformed' : 'lockbox_not_for_me');
}
