// Resubmitting refused envelopes. lease_expired: with the relay's clock injected, alice's envelope pushed after
// its lease's notAfter is refused and quarantined, and her later edits to that record wait behind it
// (seq_gap). Only her explicit resubmit under a fresh lease puts it back — same seq, same changes, new
// lease id — after which bob receives everything and later edits flow again. Nothing is dropped. Any other
// reason: the exact bytes go back (issue 10: what a forged refusal used to leave behind).
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../src/protocol/envelope.ts';
import { openEnvelope } from '../../src/docs/envelope/openEnvelope.ts';
import { exportQuarantine } from '../../src/docs/sync/quarantineExport.ts';
import { blockedDocuments, listQuarantine, NO_FRESH_LEASE_MESSAGE, resubmitQuarantined } from '../../src/docs/sync/resubmit.ts';
import { syncStatus } from '../../src/docs/sync/syncStatus.ts';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import type { PublicKey } from '../../src/crypto/keys.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, startTestRelay, tempDir, type Open, type User } from './helpers.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const BIN = pathJoin(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
function cli(u: User, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--home', u.home, '--password-stdin'], {
    input: `${u.name} password\n`, encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_KDF: 'min' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** Asynchronous: the in-process relay must keep serving while the CLI talks to it. */
function cliAsync(u: User, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [BIN, ...args, '--home', u.home, '--password-stdin'], { encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_KDF: 'min' } },
      (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }));
    child.stdin!.end(`${u.name} password\n`);
  });
}

afterAll(cleanupDirs);

const MAX_OFFLINE = 60_000;

/** Alice (policy reject) and bob share a record; alice's offline edit reaches the relay after its lease. */
async function lateEdit(offlineEdits = 1) {
  let clock = Date.now();
  const relay = await startTestRelay(() => clock);
  const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
  const ws = createStoredWorkspace(alice, 'ops', relay.url, { maxOfflineMs: MAX_OFFLINE, leasePolicy: 'reject' });
  const code = invite(alice, ws, 'writer');
  const a = await open(alice);
  await a.engine.syncOnce();
  await join(bob, code, relay.url);
  await a.engine.syncOnce();
  const id = await a.s.records.create({ title: 'VPN', fields: { user: 'alice' } });
  expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
  const lease1 = a.s.lease.lease!;
  await a.s.records.update(id, { notes: 'written offline under lease 1' });
  for (let i = 1; i < offlineEdits; i++) await a.s.records.update(id, { fields: { user: 'alice', step: String(i) } });
  clock += 2 * MAX_OFFLINE; // the relay sees it only after lease 1's notAfter
  const late = await a.engine.syncOnce();
  expect(late.rejected).toEqual({ lease_expired: 1 });
  return { relay, alice, bob, a, id, lease1, advance: (ms: number) => (clock += ms) };
}

describe('resubmitting refused envelopes', () => {
  it('a lease_expired envelope stays in quarantine until alice resubmits it under a fresh lease, then bob receives it and later edits flow again', async () => {
    const { relay, bob, a, id } = await lateEdit(2); // the second waits behind the first (seq_gap), under lease 1 too
    let b: Open | undefined;
    try {
      // A later edit of the same record waits behind the refused seq; status says so and how to resolve.
      await a.s.records.update(id, { title: 'VPN (rotated)' });
      const blockedPass = await a.engine.syncOnce();
      expect(blockedPass.retry).toBeGreaterThan(0);
      expect(blockedPass.outbox).toBeGreaterThan(0);
      const st = await syncStatus(a.s);
      expect(st.blocked).toEqual([expect.objectContaining({ reason: 'lease_expired', waiting: expect.any(Number) })]);
      expect(st.blocked[0]!.waiting).toBeGreaterThan(0);
      expect(st.quarantine).toHaveLength(1);

      // Bob sees neither edit yet.
      b = await open(bob);
      await b.engine.syncOnce();
      expect((await b.s.records.get(id))?.title).toBe('VPN');
      expect((await b.s.records.get(id))?.notes ?? '').toBe('');

      // Alice resubmits: it is back in the outbox, still listed in the quarantine until the relay acks.
      const r = await resubmitQuarantined(a.s, 'all');
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.resubmitted).toHaveLength(1);
      expect(r.value.resealedBehind).toBe(1); // it names lease 1 too: the relay would refuse it next
      expect((await listQuarantine(a.s.session)).map(i => i.state)).toEqual(['resubmitted']);
      expect(await blockedDocuments(a.s.session)).toEqual([]);
      const pass = await a.engine.syncOnce();
      expect(pass.rejected).toEqual({});
      expect(pass.outbox).toBe(0);
      expect(await a.s.session.quarantine.list()).toEqual([]);

      await b.engine.syncOnce();
      const seen = await b.s.records.get(id);
      expect(seen?.notes).toBe('written offline under lease 1');
      expect(seen?.title).toBe('VPN (rotated)');
      expect(seen?.fields).toMatchObject({ step: '1' });

      // Later edits flow again.
      await a.s.records.update(id, { notes: 'after the resubmit' });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
      await b.engine.syncOnce();
      expect((await b.s.records.get(id))?.notes).toBe('after the resubmit');
      expect((await b.engine.syncOnce()).quarantinedRemote).toEqual({});
    } finally {
      await b?.close();
      await a.close();
      await relay.close();
    }
  });

  it('resubmit refuses without a fresh lease', async () => {
    const { relay, a } = await lateEdit();
    try {
      const lease2 = a.s.lease.lease!;
      a.s.lease.observe(lease2.notAfter + 1); // the current lease has run out too
      const r = await resubmitQuarantined(a.s, 'all');
      expect(r).toEqual({ ok: false, reason: 'no_fresh_lease', message: NO_FRESH_LEASE_MESSAGE });
      expect(NO_FRESH_LEASE_MESSAGE).toMatch(/connect first: cloister sync/);
      expect((await listQuarantine(a.s.session)).map(i => i.state)).toEqual(['resubmittable']);
      expect(await a.s.session.outbox.pending()).toEqual([]);
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('a resubmitted envelope carries the same seq and changes and a new lease id', async () => {
    const { relay, a, lease1 } = await lateEdit();
    try {
      const [q] = await a.s.session.quarantine.list();
      const r = await resubmitQuarantined(a.s, [q!.id.slice(0, 12)]); // a unique prefix is enough
      expect(r.ok && r.value.resubmitted.length).toBe(1);
      const [e] = await a.s.session.outbox.pending();
      const before = decodeEnvelope(q!.bytes);
      const after = decodeEnvelope(e!.bytes);
      if (!before.ok || !after.ok) throw new Error('undecodable');
      expect(before.value.header.leaseId).toBe(lease1.leaseId);
      expect(after.value.header.leaseId).toBe(a.s.lease.leaseId());
      expect(after.value.header.leaseId).not.toBe(lease1.leaseId);
      expect(after.value.header.seq).toBe(before.value.header.seq);
      expect(e!.seq).toBe(before.value.header.seq);
      const oldOpen = openEnvelope(q!.bytes, a.s.live, a.s.session.cursors, { skipSequence: true });
      const newOpen = openEnvelope(e!.bytes, a.s.live, a.s.session.cursors, { skipSequence: true });
      if (!oldOpen.ok || !newOpen.ok) throw new Error('unopenable');
      expect(newOpen.value.changes).toEqual(oldOpen.value.changes);
      expect(newOpen.value.actor).toBe(oldOpen.value.actor);
      // Twice is refused per entry, not duplicated.
      const again = await resubmitQuarantined(a.s, [q!.id]);
      expect(again.ok && again.value.skipped.map(s => s.why)).toEqual([expect.stringMatching(/already resubmitted/)]);
      expect(await a.s.session.outbox.pending()).toHaveLength(1);
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('quarantine export lists the envelope and its reason', async () => {
    const { relay, a } = await lateEdit();
    try {
      const ex = await exportQuarantine(a.s.session, a.s.live);
      expect(ex.items).toHaveLength(1);
      const [item] = ex.items;
      expect(item).toMatchObject({ reason: 'lease_expired', source: 'push', state: 'resubmittable', description: expect.stringMatching(/expired/) });
      const [q] = await a.s.session.quarantine.list();
      expect(item!.envelope).toBe(Buffer.from(q!.bytes).toString('base64url'));
      expect(JSON.stringify(ex)).not.toContain('written offline under lease 1');
      expect(item!.changes).toBeUndefined();
      const dec = await exportQuarantine(a.s.session, a.s.live, { decrypt: true });
      expect(dec.decrypted).toBe(true);
      expect(dec.items[0]!.changes!.length).toBeGreaterThan(0);
      expect(JSON.stringify(dec)).toContain('written offline under lease 1');
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('from the command line: status names the blocked document, quarantine list/export show it, resubmit then sync clears it', async () => {
    const { relay, alice, a, id } = await lateEdit();
    try {
      await a.s.records.update(id, { title: 'VPN (rotated)' });
      await a.engine.syncOnce(); // waits behind the refused seq
      await a.close();

      const status = cli(alice, 'status');
      expect(status.code, `${status.err} ${status.out}`).toBe(0);
      expect(status.out).toMatch(/blocked +1 document\(s\).*cloister quarantine resubmit/);
      const list = cli(alice, 'quarantine', 'list', '--json');
      expect(list.code, list.err).toBe(0);
      const items = JSON.parse(list.out) as { id: string; reason: string; docId: string; seq: number; state: string }[];
      expect(items).toEqual([expect.objectContaining({ reason: 'lease_expired', docId: id, state: 'resubmittable' })]);
      const out = pathJoin(tempDir(), 'q.json');
      const ex = cli(alice, 'quarantine', 'export', '--out', out);
      expect(ex.code, ex.err).toBe(0);
      const exported = JSON.parse(readFileSync(out, 'utf8')) as { items: { id: string; reason: string; envelope: string }[] };
      expect(exported.items.map(i => [i.id, i.reason])).toEqual([[items[0]!.id, 'lease_expired']]);
      expect(readFileSync(out, 'utf8')).not.toContain('written offline');

      const bad = cli(alice, 'quarantine', 'resubmit');
      expect(bad.code).toBe(2);
      const re = cli(alice, 'quarantine', 'resubmit', '--all');
      expect(re.code, re.err).toBe(0);
      expect(re.out).toMatch(/resubmitted 1 envelope\(s\).*cloister sync/);
      const sync = await cliAsync(alice, 'sync', '--json');
      expect(sync.code, sync.err).toBe(0);
      expect(JSON.parse(sync.out)).toMatchObject({ rejected: {}, outbox: 0 });
      expect(JSON.parse(cli(alice, 'quarantine', 'list', '--json').out)).toEqual([]);
      expect(cli(alice, 'status').out).not.toMatch(/blocked/);
    } finally {
      await a.close().catch(() => undefined);
      await relay.close();
    }
  });
  it("alice's own envelopes refused for any reason go back byte for byte: one the relay never stored is accepted, one it had stored is acked as a duplicate, and later edits flow again", async () => {
    // What a forged push_rejected{bad_signature} did before replies were signed (issue 10): the envelope
    // retired into quarantine, every later one of that record waiting behind it (seq_gap).
    const relay = await startTestRelay();
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'ops', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice);
    let b: Open | undefined;
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      const swallowed = await a.s.records.create({ title: 'never reached the relay' });
      const stored = await a.s.records.create({ title: 'stored by the relay' });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
      await a.s.records.update(swallowed, { notes: 'swallowed on the wire' });
      await a.s.records.update(stored, { notes: 'stored, then a forged refusal' });
      const docs = a.s.session;
      const refuse = async (docId: string, reason: 'bad_signature' | 'envelope_malformed', storeFirst: boolean) => {
        const [e] = await docs.outbox.pending(docId);
        if (storeFirst) {
          const dev = alice.vault.device;
          const c = await RelayClient.connect({ url: relay.url, signingKey: dev.signingKey, devicePub: dev.signingPub as PublicKey });
          expect((await c.push(e!.bytes)).status).toBe('acked');
          c.close();
        }
        await docs.quarantine.add(e!.bytes, reason, undefined, 'push');
        await docs.retireFromOutbox(e!.docId, e!.seq);
        return e!;
      };
      const lost = await refuse(swallowed, 'bad_signature', false);
      const kept = await refuse(stored, 'envelope_malformed', true);
      await a.s.records.update(swallowed, { title: 'edited behind the refusal' });
      const blocked = await a.engine.syncOnce();
      expect(blocked.retry).toBeGreaterThan(0); // seq_gap behind the refused one
      expect((await listQuarantine(docs)).map(i => [i.entry.reason, i.state]).sort()).toEqual([
        ['bad_signature', 'resubmittable'], ['envelope_malformed', 'resubmittable'],
      ]);
      expect((await blockedDocuments(docs)).map(d => d.docId).sort()).toEqual([swallowed, stored].sort());

      const r = await resubmitQuarantined(a.s, 'all');
      expect(r.ok && r.value.resubmitted.length).toBe(2);
      expect(r.ok && r.value.skipped).toEqual([]);
      expect(await docs.outbox.get(lost.docId, lost.seq)).toEqual(lost.bytes); // the exact bytes
      expect(await docs.outbox.get(kept.docId, kept.seq)).toEqual(kept.bytes);
      expect(await docs.quarantine.list()).toEqual([]);
      const pass = await a.engine.syncOnce();
      expect(pass).toMatchObject({ rejected: {}, outbox: 0, duplicates: 1 });

      b = await open(bob);
      await b.engine.syncOnce();
      expect(await b.s.records.get(swallowed)).toMatchObject({ title: 'edited behind the refusal', notes: 'swallowed on the wire' });
      expect((await b.s.records.get(stored))?.notes).toBe('stored, then a forged refusal');
      await a.s.records.update(stored, { notes: 'later' });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
      await b.engine.syncOnce();
      expect((await b.s.records.get(stored))?.notes).toBe('later');
    } finally {
      await b?.close();
      await a.close();
      await relay.close();
    }
  });
});
