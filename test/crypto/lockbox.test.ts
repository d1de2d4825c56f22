// Stories for lockboxes (X25519 sealed boxes): only the addressed device, with the same context, opens
// one; low-order ephemeral keys and damaged boxes are refused with a reason, never an exception.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { boxPublicKeyOf, generateBoxKey, openLockbox, sealLockbox } from '../../src/crypto/lockbox.ts';

const epochKey = fromHex('11'.repeat(32))!;
const ctx = utf8('workspace w1 / epoch 3');

/** Every X25519 public key in Wycheproof whose shared secret is zero: the low-order points and their non-canonical twins. */
function lowOrderPublics(): string[] {
  const file = JSON.parse(readFileSync(new URL('../vectors/wycheproof/x25519_test.json', import.meta.url), 'utf8')) as {
    testGroups: { tests: { public: string; shared: string }[] }[];
  };
  const set = new Set<string>();
  for (const g of file.testGroups) for (const t of g.tests) if (/^(00)+$/.test(t.shared)) set.add(t.public);
  return [...set];
}

describe('lockboxes', () => {
  it("alice's device opens what bob sealed to it, with the same context", () => {
    const aliceDevice = generateBoxKey();
    expect(toHex(boxPublicKeyOf(aliceDevice.secretKey))).toBe(toHex(aliceDevice.publicKey));
    const box = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    expect(openLockbox(aliceDevice.secretKey, box, ctx)).toEqual({ ok: true, value: epochKey });
  });

  it('a lockbox opened by another device fails (lockbox_not_for_me)', () => {
    const aliceDevice = generateBoxKey();
    const eveDevice = generateBoxKey();
    const box = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    expect(openLockbox(eveDevice.secretKey, box, ctx)).toEqual({ ok: false, reason: 'lockbox_not_for_me' });
  });

  it('a lockbox opened with a different context fails (lockbox_not_for_me)', () => {
    const aliceDevice = generateBoxKey();
    const box = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    for (const other of [utf8('workspace w1 / epoch 4'), utf8('workspace w2 / epoch 3'), new Uint8Array()]) {
      expect(openLockbox(aliceDevice.secretKey, box, other)).toEqual({ ok: false, reason: 'lockbox_not_for_me' });
    }
  });

  it('a lockbox with a low-order ephemeral key is refused without throwing (lockbox_bad_key)', () => {
    const aliceDevice = generateBoxKey();
    const box = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    const publics = lowOrderPublics();
    expect(publics.length).toBeGreaterThanOrEqual(7); // 0, 1, two order-8 points, p-1, p, p+1, and high-bit twins
    for (const h of publics) {
      const evil = concat(fromHex(h)!, box.subarray(32));
      let r: ReturnType<typeof openLockbox> | undefined;
      expect(() => (r = openLockbox(aliceDevice.secretKey, evil, ctx)), h).not.toThrow();
      expect(r, h).toEqual({ ok: false, reason: 'lockbox_bad_key' });
    }
  });

  it('sealing to a low-order recipient key throws (programming error, not untrusted input)', () => {
    expect(() => sealLockbox(new Uint8Array(32), epochKey, ctx)).toThrow();
  });

  it('a lockbox truncated at every length is refused without throwing', () => {
    const aliceDevice = generateBoxKey();
    const box = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    for (let n = 0; n < box.length; n++) {
      const r = openLockbox(aliceDevice.secretKey, box.subarray(0, n), ctx);
      expect(r.ok, `prefix ${n}`).toBe(false);
    }
    expect(openLockbox(aliceDevice.secretKey, 'garbage' as unknown as Uint8Array, ctx)).toEqual({ ok: false, reason: 'lockbox_malformed' });
  });

  it('flipping any bit of a lockbox is refused without throwing', () => {
    const aliceDevice = generateBoxKey();
    const box = sealLockbox(aliceDevice.publicKey, utf8('k'), ctx);
    const reasons = new Set<string>();
    for (let i = 0; i < box.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = box.slice();
        t[i]! ^= 1 << bit;
        const r = openLockbox(aliceDevice.secretKey, t, ctx);
        expect(r.ok, `byte ${i} bit ${bit}`).toBe(false);
        if (!r.ok) reasons.add(r.reason);
      }
    }
    // Flips in the ephemeral key change the derived key (not_for_me); a flipped version byte is malformed.
    expect([...reasons].every((x) => ['lockbox_malformed', 'lockbox_not_for_me', 'lockbox_bad_key'].includes(x))).toBe(true);
    expect(reasons.has('lockbox_not_for_me')).toBe(true);
  });

  it('every lockbox uses a fresh ephemeral key, so two boxes of the same secret are unlinkable', () => {
    const aliceDevice = generateBoxKey();
    const a = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    const b = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    expect(toHex(a.subarray(0, 32))).not.toBe(toHex(b.subarray(0, 32)));
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it("a box's body moved under another ephemeral key (eve re-wraps) does not open", () => {
    const aliceDevice = generateBoxKey();
    const a = sealLockbox(aliceDevice.publicKey, epochKey, ctx);
    const b = sealLockbox(aliceDevice.publicKey, utf8('other'), ctx);
    expect(openLockbox(aliceDevice.secretKey, concat(b.subarray(0, 32), a.subarray(32)), ctx).ok).toBe(false);
  });
});
