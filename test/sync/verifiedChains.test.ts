// The membership-chain verification cache (src/docs/sync/verifiedChains.ts): an unchanged stored
// chain is verified once per process, and any new or altered link is verified again in full.
import { describe, expect, it } from 'vitest';
import { logEntries, replayLog } from '../../src/identity/workspace/log.ts';
import { replayStoredChain } from '../../src/docs/sync/verifiedChains.ts';
import { teamOfTwo } from '../identity/workspace/teamOfTwo.ts';

describe('verifying a stored membership chain once', () => {
  it('an unchanged chain (even as fresh copies of its bytes) is replayed once and then served from memory', () => {
    const { state } = teamOfTwo();
    const links = logEntries(state);
    const first = replayStoredChain(links);
    const again = replayStoredChain(links.map(l => l.slice()));
    expect(first.ok && again.ok).toBe(true);
    expect(again.ok && first.ok && again.value === first.value).toBe(true);
    expect(first.ok && first.value.head).toBe(state.head);
  });

  it('a chain that grew by a link is verified again, and eve\'s altered link is refused like a plain replay refuses it', () => {
    const { state } = teamOfTwo();
    const links = logEntries(state);
    const shorter = replayStoredChain(links.slice(0, links.length - 1));
    const full = replayStoredChain(links);
    expect(shorter.ok && full.ok && shorter.value !== full.value).toBe(true);
    expect(full.ok && full.value.order.length).toBe(links.length);

    const tampered = links.map(l => l.slice());
    const last = tampered[tampered.length - 1]!;
    last[last.length - 10]! ^= 1; // inside the last link's signatures
    const r = replayStoredChain(tampered);
    const plain = replayLog(tampered);
    expect(r.ok).toBe(false);
    expect(r.ok ? 'ok' : r.reason).toBe(plain.ok ? 'ok' : plain.reason);
    // The genuine chain is still served, the tampered one never remembered.
    expect(replayStoredChain(tampered).ok).toBe(false);
    const back = replayStoredChain(links);
    expect(back.ok && full.ok && back.value === full.value).toBe(true);
  });
});
