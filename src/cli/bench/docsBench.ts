// Docs figures: sealing and opening change envelopes at the default batching, their cost against
// Automerge's own applyChanges on 10,000 keystroke changes (DESIGN → Performance: must stay ≤ 0.5),
// envelope overhead in bytes, and one applyChanges call vs chunks of 100 side by side.
import * as A from '@automerge/automerge';
import { randomBytes } from '../../crypto/bytes.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { deviceIdOf } from '../../crypto/ids.ts';
import { asKey, type DeviceSigningKey, type EpochKey } from '../../crypto/keys.ts';
import { actorFor, newSessionNonce } from '../../docs/actor.ts';
import type { EnvelopeAuthority, SeqView } from '../../docs/envelope/authority.ts';
import { openEnvelope } from '../../docs/envelope/openEnvelope.ts';
import { sealEnvelope } from '../../docs/envelope/sealEnvelope.ts';
import { documentKey } from '../../identity/workspace/epochKeys.ts';
import { median, round } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const KEYSTROKES = 10_000;
/** Changes per envelope in the benchmark: a flush window's worth of fast typing, or a sync-time backlog cut into DESIGN's 100. */
export const DEFAULT_BENCH_BATCH = 100;
const RUNS = 5;

export function keystrokeChanges(actor: string, n: number): Uint8Array[] {
  let doc = A.from<{ text: string }>({ text: '' }, { actor });
  for (let i = 0; i < n; i++) doc = A.change(doc, d => A.splice(d, ['text'], i, 0, String.fromCharCode(97 + (i % 26))));
  return A.getAllChanges(doc);
}

export async function docsBench(log: (m: string) => void = () => undefined): Promise<Figures> {
  const { secretKey, publicKey } = generateSigningKey<DeviceSigningKey>();
  const deviceId = deviceIdOf(publicKey);
  const sessionNonce = newSessionNonce();
  const epochKey = asKey<EpochKey>(randomBytes(32));
  const docId = 'bench-doc';
  const logHead = new Uint8Array(32); // no chain here: the authority below checks no log position
  const key = documentKey(epochKey, docId);
  const authority: EnvelopeAuthority = {
    workspaceId: 'bench-ws',
    deviceInfo: id => (id === deviceId ? { deviceId, userId: 'bench', signingPub: publicKey, revoked: false } : undefined),
    canWriteDevice: id => (id === deviceId ? true : 'not_a_member'),
    documentKey: epoch => (epoch === 0 ? key : undefined),
  };
  const seqs: SeqView = { lastSeq: () => 0, envelopeHashAt: () => undefined };

  log(`  ${KEYSTROKES} keystroke changes`);
  const changes = keystrokeChanges(actorFor(publicKey, sessionNonce), KEYSTROKES);
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < changes.length; i += DEFAULT_BENCH_BATCH) batches.push(changes.slice(i, i + DEFAULT_BENCH_BATCH));
  const seal = () =>
    batches.map((b, i) =>
      sealEnvelope({ workspaceId: 'bench-ws', docId, deviceId, epoch: 0, seq: i + 1, leaseId: '', claimedTime: Date.now(), sessionNonce, logIndex: 0, logHead, changes: b }, key, secretKey).bytes,
    );

  log(`  seal/open ${batches.length} envelopes of ${DEFAULT_BENCH_BATCH} changes, applyChanges, x${RUNS}`);
  const sealMs: number[] = [];
  const openMs: number[] = [];
  const applyOneMs: number[] = [];
  const applyChunksMs: number[] = [];
  let envelopes: Uint8Array[] = [];
  for (let r = -1; r < RUNS; r++) { // run -1 warms the JIT and is not counted
    let t0 = performance.now();
    envelopes = seal();
    if (r >= 0) sealMs.push(performance.now() - t0);

    t0 = performance.now();
    const opened: Uint8Array[] = [];
    for (const e of envelopes) {
      const o = openEnvelope(e, authority, seqs, { skipSequence: true });
      if (!o.ok) throw new Error(`bench envelope refused: ${o.reason}`);
      opened.push(...o.value.changes);
    }
    if (r >= 0) openMs.push(performance.now() - t0);

    t0 = performance.now();
    A.applyChanges(A.init(), opened);
    if (r >= 0) applyOneMs.push(performance.now() - t0);

    t0 = performance.now();
    let doc = A.init();
    for (let i = 0; i < opened.length; i += 100) [doc] = A.applyChanges(doc, opened.slice(i, i + 100));
    if (r >= 0) applyChunksMs.push(performance.now() - t0);
  }
  // For contrast: one change per envelope (what slow typing with a 100 ms window produces), on 1,000 changes.
  log('  one change per envelope, 1,000 changes');
  const few = changes.slice(0, 1000);
  let t1 = performance.now();
  const singles = few.map((c, i) =>
    sealEnvelope({ workspaceId: 'bench-ws', docId, deviceId, epoch: 0, seq: i + 1, leaseId: '', claimedTime: Date.now(), sessionNonce, logIndex: 0, logHead, changes: [c] }, key, secretKey).bytes,
  );
  for (const e of singles) if (!openEnvelope(e, authority, seqs, { skipSequence: true }).ok) throw new Error('bench envelope refused');
  const singlesMs = performance.now() - t1;
  t1 = performance.now();
  A.applyChanges(A.init(), few);
  const fewApplyMs = performance.now() - t1;

  const changeBytes = changes.reduce((n, c) => n + c.length, 0);
  const envelopeBytes = envelopes.reduce((n, e) => n + e.length, 0);
  const seal1 = median(sealMs);
  const open1 = median(openMs);
  const apply1 = median(applyOneMs);
  return {
    docs_batch_changes: DEFAULT_BENCH_BATCH,
    seal_ops_per_s: Math.round((batches.length * 1000) / seal1),
    open_ops_per_s: Math.round((batches.length * 1000) / open1),
    seal_10k_ms: round(seal1),
    open_10k_ms: round(open1),
    // Per run, then the median: load from other processes then hits numerator and denominator alike.
    crypto_over_apply_ratio: round(median(sealMs.map((s, i) => (s + openMs[i]!) / applyOneMs[i]!)), 3),
    envelope_bytes_over_change_bytes: round(envelopeBytes / changeBytes, 3),
    applychanges_10k_one_call_ms: round(apply1),
    applychanges_10k_chunks100_ms: round(median(applyChunksMs)),
    batch1_crypto_over_apply_ratio: round(singlesMs / fewApplyMs, 1),
  };
}

export const docsSuite: BenchSuite = {
  name: 'docs',
  description: 'change envelopes: seal/open vs Automerge applyChanges, overhead in bytes',
  run: ctx => docsBench(ctx.log),
};
