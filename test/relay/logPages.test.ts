// log_get pages: a membership log longer than one page comes back whole and in order, page by page,
// and no single reply grows with the log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/protocol/messages.ts';
import { setPolicy } from '../../src/identity/workspace/members.ts';
import type { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { apply, connect, device, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

let t: TestRelay;
const open: RelayClient[] = [];
beforeEach(async () => {
  t = await startTestRelay();
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await t.stop();
});

describe('membership log pages', () => {
  it('a log of 1,200 entries is read back whole and in order over several pages', async () => {
    // Two admins, taking turns: each stays within the per-role limit of entries per day.
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'admin' }]);
    const a = await connect(t.relay, alice);
    const b = await connect(t.relay, bob);
    open.push(a, b);
    let state = w.state;
    for (let i = 0; i < 1_197; i++) {
      const [who, c] = i % 2 ? [bob, b] : [alice, a];
      const e = setPolicy(state, who, { maxOfflineMs: 3_600_000 + i, leasePolicy: 'hold' }, Date.now());
      await c.appendLog(w.workspaceId, e.bytes);
      state = apply(state, e.bytes);
    }
    const pages: number[] = [];
    const seen = new Set<string>();
    for (let from = 0; ; ) {
      const reply = await a.request({ t: 'log_get', workspaceId: w.workspaceId, from, limit: 500 });
      if (reply.t !== 'log') throw new Error(reply.t);
      pages.push(reply.entries.length);
      expect(encodeMessage(reply).length).toBeLessThan(1024 * 1024); // the default frame limit
      for (const e of reply.entries) seen.add(Buffer.from(e).toString('base64'));
      if (!reply.more) break;
      from = reply.next;
    }
    expect(pages).toEqual([500, 500, 200]);
    expect(seen.size).toBe(1_200);
    const whole = await a.getLog(w.workspaceId);
    expect(whole).toHaveLength(1_200);
    expect(whole.map(e => Buffer.from(e).toString('base64'))).toEqual([...seen]);
  });
});
