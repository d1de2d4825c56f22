// The sync engine's snapshot steps (docs/SNAPSHOTS.md).
// - A device that has never pulled (a cold join) first takes the newest snapshot of each document it
//   can verify, then pulls: envelopes the snapshots cover are only checked against the documents.
// - After a pass, a document that has gained `every` envelopes (anyone's) since its last snapshot gets
//   a new one from this device, if it can honestly cover them (DocSession.sealSnapshot).
import { decodeEnvelope } from '../../protocol/envelope.ts';
import type { DocSession } from '../DocSession.ts';
import { openSnapshot, type OpenedSnapshot } from '../snapshots/openSnapshot.ts';
import type { RelayClient } from './relayClient.ts';
import type { SyncStateStore } from './syncState.ts';
import { bump } from './syncTypes.ts';

/** Envelopes on one document between snapshots, by default (each 32 changes an envelope carries count as one more). */
export const SNAPSHOT_EVERY = 64;
const CHANGES_PER_UNIT = 32;

/**
 * How much one applied envelope moves its document towards the next snapshot: replaying it costs a
 * signature check and a decryption, plus Automerge's apply of each change (a long record typed offline
 * comes in a few envelopes of thousands of keystrokes each).
 */
export const snapshotWeight = (changes: number): number => 1 + Math.floor(changes / CHANGES_PER_UNIT);
/** At most this many snapshots sealed in one pass (each is a save() of its document). */
const SEAL_PER_PASS = 16;
const ADOPT_CHUNK = 200;

export interface SnapshotCounts {
  loaded: number;
  refused: Record<string, number>;
  sealed: number;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, detail?: Record<string, unknown>) => void;

/** Cold join: page through the newest snapshot of every document, verify each, and adopt the good ones. */
export async function loadSnapshots(client: RelayClient, docs: DocSession, workspaceId: string, counts: SnapshotCounts, log: Log): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await client.listSnapshots(workspaceId, after, ADOPT_CHUNK);
    const good: OpenedSnapshot[] = [];
    for (const { snapshot } of page.snapshots) {
      const r = openSnapshot(snapshot, docs.authority);
      if (r.ok) good.push(r.value);
      else {
        bump(counts.refused, r.reason);
        log('warn', 'a snapshot was refused; its document is read from its envelopes instead', { reason: r.reason, detail: r.detail });
      }
    }
    if (good.length) {
      const { adopted, refused } = await docs.adoptSnapshots(good);
      counts.loaded += adopted.length;
      for (const x of refused) bump(counts.refused, x.reason);
    }
    after = page.next;
    if (!page.more) return;
  }
}

/**
 * Count this pass's envelopes per document (applied from others, or acked for us) towards the next
 * snapshot, and seal the documents that reached `every`. Counts persist in the sync state.
 */
export async function sealDueSnapshots(
  client: RelayClient, docs: DocSession, state: SyncStateStore, touched: Map<string, number>, every: number, counts: SnapshotCounts, log: Log,
): Promise<void> {
  if (every <= 0 || touched.size === 0) return;
  const add = new Map(touched);
  touched.clear();
  const st = await state.update(s => {
    const due = { ...(s.snapshotDue ?? {}) };
    for (const [docId, n] of add) due[docId] = (due[docId] ?? 0) + n;
    s.snapshotDue = due;
  });
  const ready = Object.entries(st.snapshotDue ?? {}).filter(([, n]) => n >= every).slice(0, SEAL_PER_PASS);
  if (ready.length === 0) return;
  const done: string[] = [];
  for (const [docId] of ready) {
    const sealed = await docs.sealSnapshot(docId);
    if (!sealed) continue; // not honest to seal now (unsealed edits, unacked or parked envelopes): next pass
    const r = await client.putSnapshot(sealed.bytes);
    if (r.status === 'stored') counts.sealed++;
    else log('warn', 'the relay refused a snapshot; its envelopes stay the record', { docId, reason: r.reason, detail: r.detail });
    done.push(docId);
  }
  if (done.length)
    await state.update(s => {
      const due = { ...(s.snapshotDue ?? {}) };
      for (const d of done) delete due[d];
      s.snapshotDue = due;
    });
}

/**
 * After a full pull: envelopes parked for a sequence gap may be waiting for envelopes the relay has
 * pruned under a snapshot (a device offline for longer than the relay's retention). For each such
 * document, take the newest snapshot that covers the gap (and passes every check, including that it
 * holds every change this device has from others), then judge the parked envelopes again.
 * `tried` remembers (doc, device, seq) gaps already looked up by this engine, so a gap no snapshot
 * covers costs one request, not one per pass.
 */
export async function fillGapsFromSnapshots(
  client: RelayClient, docs: DocSession, workspaceId: string, counts: SnapshotCounts, tried: Set<string>, log: Log,
): Promise<void> {
  const parked = (await docs.pending.list()).filter(p => p.kind === 'gap');
  if (parked.length === 0) return;
  // Per document: for each device, the lowest parked seq (the gap ends just below it).
  const need = new Map<string, Map<string, number>>();
  for (const p of parked) {
    const d = decodeEnvelope(p.bytes);
    if (!d.ok) continue;
    const { deviceId, seq } = d.value.header;
    const m = need.get(p.docId) ?? new Map<string, number>();
    m.set(deviceId, Math.min(m.get(deviceId) ?? Infinity, seq));
    need.set(p.docId, m);
  }
  let looked = 0;
  for (const [docId, devices] of need) {
    const key = `${docId}:${[...devices].map(([d, s]) => `${d}/${s}`).join(',')}`;
    if (tried.has(key) || looked >= SEAL_PER_PASS) continue;
    tried.add(key);
    looked++;
    const page = await client.listSnapshots(workspaceId, 0, 3, docId);
    for (const { snapshot } of page.snapshots) {
      const r = openSnapshot(snapshot, docs.authority, docId);
      if (!r.ok) {
        bump(counts.refused, r.reason);
        continue;
      }
      const covers = new Map(r.value.header.covers.map(c => [c.deviceId, c.seq]));
      if (![...devices].every(([d, s]) => (covers.get(d) ?? 0) >= s - 1)) continue;
      const { adopted, refused } = await docs.adoptSnapshots([r.value]);
      for (const x of refused) bump(counts.refused, x.reason);
      if (adopted.length === 0) continue;
      counts.loaded++;
      log('info', 'envelopes the relay pruned were taken from a snapshot', { docId, author: r.value.header.deviceId });
      await docs.applyRemote((await docs.pending.list(docId, 'gap')).map(p => p.bytes));
      break;
    }
  }
}
