// log_get pages: a membership log longer than one page comes back whole and in order, page by page,
// and no single reply grows with the log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/protocol/messages.ts';
import { setPolicy } from '../../src/identity/workspace/members.ts';
import type { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { apply, connect, device, publishWorkspace, startTestRelay, T0, type TestRelay } from './helpers.ts';
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
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice);
    open.push(a);
    let state = w.state;
    for (let i = 0; i < 1_199; i++) {
      const e = setPolicy(state, alice, { maxOfflineMs: 3_600_000 + i, leasePolicy: 'hold' }, T0);
      await a.appendLog(w.workspaceId, e.bytes);
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
