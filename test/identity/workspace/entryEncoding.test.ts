// Stories about the entry encoding: one canonical form, signed exactly, and no byte can change.
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/crypto/bytes.ts';
import { DOMAIN } from '../../../src/crypto/domains.ts';
import { sign } from '../../../src/crypto/ed25519.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { decodeEntry, encodeEntry, entryIdOf } from '../../../src/identity/workspace/entry.ts';
import { appendEntry } from '../../../src/identity/workspace/log.ts';
import { removeMember, setPolicy } from '../../../src/identity/workspace/members.ts';
import { WORKSPACE_REJECTIONS } from '../../../src/identity/workspace/rejections.ts';
import { canonicalJson } from '../../../src/identity/workspace/canonicalJson.ts';
import { NOW, device, keysOf, must } from './fixtures.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { teamOfTwo } from './teamOfTwo.ts';

describe('entry encoding', () => {
  it('canonical JSON sorts keys and refuses non-integers', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 's'] })).toBe('{"a":[true,null,"s"],"b":1}');
    expect(() => canonicalJson({ x: 1.5 })).toThrow();
  });

  it('the entry id is the SHA-256 of exactly the signed body bytes', () => {
    const alice = device('alice');
    const d = decodeEntry(createWorkspace(alice, 'Team', { now: NOW }).root);
    expect(d.ok && d.value.id).toBe(d.ok && entryIdOf(d.value.bodyBytes));
  });

  it('a correctly signed but non-canonical body is refused', () => {
    const { alice, state } = teamOfTwo();
    const good = decodeEntry(setPolicy(state, alice, { maxOfflineMs: 5, leasePolicy: 'hold' }, NOW).bytes);
    if (!good.ok) throw new Error(good.reason);
    const spaced = utf8(JSON.stringify(good.value.body, null, 1));
    const bytes = encodeEntry(spaced, sign(alice.signingKey, DOMAIN.membership, spaced));
    const r = appendEntry(state, bytes, NOW);
    expect(r.ok ? 'accepted' : r.reason).toBe('entry_not_canonical');
  });

  for (const kind of ['set_policy', 'remove_member', 'join'] as const) {
    it(`every byte of a ${kind} entry flipped is rejected with a reason`, () => {
      let { alice, state } = teamOfTwo();
      let bytes: Uint8Array;
      if (kind === 'set_policy') bytes = setPolicy(state, alice, { maxOfflineMs: 5, leasePolicy: 'hold' }, NOW).bytes;
      else if (kind === 'remove_member') bytes = removeMember(state, alice, keysOf(state, alice), 'bob', NOW).entry.bytes;
      else {
        const inv = createInvitation(state, alice, keysOf(state, alice).get(0)!, { role: 'reader', expiresAt: NOW + 1000, now: NOW });
        state = must(state, inv.entry.bytes);
        const j = buildJoin(state, inv.code, device('carol'), NOW);
        if (!j.ok) throw new Error(j.reason);
        bytes = j.value.entry.bytes;
      }
      expect(appendEntry(state, bytes, NOW).ok).toBe(true);
      const reasons = new Map<string, number>();
      for (let i = 0; i < bytes.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const flipped = bytes.slice();
          flipped[i]! ^= mask;
          const r = appendEntry(state, flipped, NOW);
          expect(r.ok, `byte ${i} ^ ${mask} accepted`).toBe(false);
          if (!r.ok) {
            expect(WORKSPACE_REJECTIONS).toHaveProperty(r.reason);
            reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
          }
        }
      }
      expect(reasons.has('entry_bad_signature')).toBe(true);
    });
  }

  it('truncated or extended entries are malformed', () => {
    const { alice, state } = teamOfTwo();
    const bytes = setPolicy(state, alice, { maxOfflineMs: 5, leasePolicy: 'hold' }, NOW).bytes;
    for (const b of [bytes.subarray(0, bytes.length - 1), new Uint8Array([...bytes, 0]), new Uint8Array()]) {
      const r = appendEntry(state, b, NOW);
      expect(r.ok ? 'accepted' : r.reason).toBe('entry_malformed');
    }
  });
});
