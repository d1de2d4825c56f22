// Resubmitting the device's own envelopes the relay refused (an explicit user action). Sequence numbers
// are gapless per (device, doc), so one refused envelope blocks every later one of that document.
// - lease_expired (DESIGN → Offline leases: "a later upload needs a fresh lease"): resubmit seals the SAME
//   changes again with the SAME seq, epoch, time and session nonce under the CURRENT lease and puts it back
//   in the outbox at its seq; the envelopes waiting behind it for that document (never stored by the relay:
//   it has a gap there) are re-sealed under the current lease too. The quarantine entry stays until the
//   relay acks the new envelope (settleResubmitted, run after each push). Stateless: "resubmitted" means
//   the own-device cursor's hash at that seq is no longer the quarantined one.
// - any other reason: the EXACT bytes go back in the outbox at their seq and leave the quarantine. A
//   re-send of identical bytes is idempotent at the relay (acked as a duplicate if it had stored them),
//   and a fresh refusal quarantines them again with the relay's reason. This also undoes what a forged
//   push_rejected did to clients before replies were signed (issue 10).
// Nothing is dropped on the way.
import { toHex } from '../../crypto/bytes.ts';
import { decodeEnvelope, type EnvelopeHeader } from '../../protocol/envelope.ts';
import type { DocSession } from '../DocSession.ts';
import { openEnvelope } from '../envelope/openEnvelope.ts';
import { sealEnvelope } from '../envelope/sealEnvelope.ts';
import type { QuarantinedEnvelope } from '../quarantine.ts';
import type { LeaseClock } from './LeaseClock.ts';
import type { LiveWorkspace } from './LiveWorkspace.ts';

/** The refusal that resubmit cures by re-sealing under a fresh lease; others are re-sent as they are. */
const RESEAL_REASON = 'lease_expired';

export const NO_FRESH_LEASE_MESSAGE = 'no fresh offline lease: connect first: cloister sync';

export type QuarantineState =
  /** Not ours to resubmit (a received envelope, or bytes that are not an envelope). */
  | 'quarantined'
  /** Our own refused envelope: `cloister quarantine resubmit` puts it back. */
  | 'resubmittable'
  /** (lease_expired) Re-sealed and back in the outbox; removed from the quarantine once the relay acks it. */
  | 'resubmitted';

export interface QuarantineItem {
  entry: QuarantinedEnvelope;
  header?: EnvelopeHeader;
  state: QuarantineState;
}

/** A RecordSession has these (session = its DocSession). */
export interface ResubmitSession {
  session: DocSession;
  live: LiveWorkspace;
  lease: LeaseClock;
}

export interface ResubmitReport {
  /** Quarantine entries back in the outbox (re-sealed for lease_expired, as they were otherwise). */
  resubmitted: { id: string; docId: string; seq: number; leaseId: string; envelopeHash: string }[];
  /** Waiting outbox envelopes behind them, re-sealed under the current lease. */
  resealedBehind: number;
  /** Requested entries left as they are, and why. */
  skipped: { id: string; why: string }[];
  leaseId: string;
}

export type ResubmitFailure = 'no_fresh_lease';

const ownPush = (s: { docs: DocSession }, q: QuarantinedEnvelope, h: EnvelopeHeader | undefined): h is EnvelopeHeader =>
  !!h && q.source === 'push' && h.deviceId === s.docs.device.deviceId;

/** Every quarantine entry with its decoded header and whether it can be (or was) resubmitted. Call under the lock for a consistent view. */
async function classify(docs: DocSession): Promise<QuarantineItem[]> {
  const entries = await docs.quarantine.list();
  const out: QuarantineItem[] = [];
  const { deviceId } = docs.device;
  const decoded = entries.map(entry => {
    const d = decodeEnvelope(entry.bytes);
    return { entry, header: d.ok ? d.value.header : undefined };
  });
  await docs.cursors.load(decoded.filter(x => x.header?.deviceId === deviceId).map(x => ({ deviceId, docId: x.header!.docId, seq: x.header!.seq })));
  for (const { entry, header } of decoded) {
    let state: QuarantineState = 'quarantined';
    if (ownPush({ docs }, entry, header)) {
      const now = docs.cursors.envelopeHashAt(deviceId, header.docId, header.seq);
      state = entry.reason === RESEAL_REASON && now !== undefined && now !== entry.envelopeHash ? 'resubmitted' : 'resubmittable';
    }
    out.push({ entry, ...(header ? { header } : {}), state });
  }
  return out;
}

/** The quarantine, each entry classified (read-only). */
export function listQuarantine(docs: DocSession): Promise<QuarantineItem[]> {
  return docs.withLock(() => classify(docs));
}

/** Documents whose later envelopes wait behind an own envelope the relay refused and that was not resubmitted yet. */
export async function blockedDocuments(docs: DocSession): Promise<{ docId: string; seq: number; quarantineId: string; reason: string; waiting: number }[]> {
  const items = (await listQuarantine(docs)).filter(i => i.state === 'resubmittable' && i.header);
  const out = [];
  for (const i of items) {
    const waiting = (await docs.outbox.pending(i.header!.docId)).filter(e => e.seq > i.header!.seq).length;
    out.push({ docId: i.header!.docId, seq: i.header!.seq, quarantineId: i.entry.id, reason: i.entry.reason, waiting });
  }
  return out;
}

/**
 * Put the chosen own quarantine entries (`'all'`, or ids) back in the outbox: lease_expired ones re-sealed
 * under the current lease with the envelopes waiting behind them, others as they were. Refuses without a
 * fresh lease.
 */
export async function resubmitQuarantined(
  s: ResubmitSession,
  which: 'all' | readonly string[],
): Promise<{ ok: true; value: ResubmitReport } | { ok: false; reason: ResubmitFailure; message: string }> {
  const lease = s.lease.lease;
  const leaseId = s.lease.leaseId();
  if (!lease || !leaseId || s.lease.offlineRemainingMs() === 0) return { ok: false, reason: 'no_fresh_lease', message: NO_FRESH_LEASE_MESSAGE };
  const { session: docs, live } = s;
  const { deviceId, userId, signingKey } = docs.device;
  const report: ResubmitReport = { resubmitted: [], resealedBehind: 0, skipped: [], leaseId };
  await docs.withLock(async () => {
    const items = await classify(docs);
    const chosen: QuarantineItem[] = [];
    if (which === 'all') chosen.push(...items.filter(i => i.state === 'resubmittable'));
    else
      for (const id of which) {
        const exact = items.find(x => x.entry.id === id);
        const prefixed = items.filter(x => x.entry.id.startsWith(id));
        const i = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
        if (!i) report.skipped.push({ id, why: prefixed.length > 1 ? 'ambiguous id prefix' : 'no such quarantine entry' });
        else if (i.state === 'resubmitted') report.skipped.push({ id: i.entry.id, why: 'already resubmitted; waiting for cloister sync' });
        else if (i.state !== 'resubmittable') report.skipped.push({ id: i.entry.id, why: `not resubmittable (${i.entry.reason}${i.entry.source === 'push' ? '' : ', received from others'})` });
        else if (!chosen.includes(i)) chosen.push(i);
      }
    chosen.sort((a, b) => (a.header!.docId < b.header!.docId ? -1 : a.header!.docId > b.header!.docId ? 1 : a.header!.seq - b.header!.seq));

    const reseal = async (bytes: Uint8Array): Promise<{ header: EnvelopeHeader; envelopeHash: string } | string> => {
      const opened = openEnvelope(bytes, live, docs.cursors, { skipSequence: true });
      if (!opened.ok) return opened.reason;
      const h = opened.value.header;
      if (h.deviceId !== deviceId) return 'not this device\'s envelope';
      if (h.leaseId === leaseId) return 'already sealed under the current lease: connect first: cloister sync';
      const key = live.documentKey(h.epoch, h.docId);
      if (!key) return `no key for epoch ${h.epoch}`;
      const env = sealEnvelope(
        { workspaceId: h.workspaceId, docId: h.docId, deviceId, epoch: h.epoch, seq: h.seq, leaseId, claimedTime: h.claimedTime, sessionNonce: h.sessionNonce, logIndex: h.logIndex, logHead: h.logHead, changes: opened.value.changes },
        key,
        signingKey,
      );
      await docs.outbox.put(h.docId, h.seq, env.bytes);
      docs.cursors.advance(deviceId, h.docId, h.seq, env.envelopeHash);
      await docs.cursors.save();
      // One chunk: the new envelope's entry and the old one's drop land together.
      await docs.provenance.putMany(h.docId, [{
        docId: h.docId, envelopeHash: env.envelopeHash, deviceId, userId, seq: h.seq, claimedTime: h.claimedTime,
        actor: opened.value.actor, seqs: opened.value.seqs, sessionNonce: toHex(h.sessionNonce),
      }], [opened.value.envelopeHash]);
      return { header: h, envelopeHash: env.envelopeHash };
    };

    /** Back in the outbox byte for byte (still ours, still opens); it leaves the quarantine, as it is queued again. */
    const resend = async (q: QuarantinedEnvelope): Promise<EnvelopeHeader | string> => {
      const opened = openEnvelope(q.bytes, live, docs.cursors, { skipSequence: true });
      if (!opened.ok) return opened.reason;
      const h = opened.value.header;
      if (h.deviceId !== deviceId) return 'not this device\'s envelope';
      await docs.outbox.put(h.docId, h.seq, q.bytes);
      await docs.quarantine.remove(q.id);
      return h;
    };

    const resealed = new Set<string>();
    for (const i of chosen) {
      const h = i.header!;
      if (await docs.outbox.get(h.docId, h.seq)) {
        report.skipped.push({ id: i.entry.id, why: 'the outbox already holds an envelope at that seq' });
        continue;
      }
      if (i.entry.reason !== RESEAL_REASON) {
        const r = await resend(i.entry);
        if (typeof r === 'string') report.skipped.push({ id: i.entry.id, why: r });
        else report.resubmitted.push({ id: i.entry.id, docId: h.docId, seq: h.seq, leaseId: h.leaseId, envelopeHash: i.entry.envelopeHash });
        continue;
      }
      const r = await reseal(i.entry.bytes);
      if (typeof r === 'string') {
        report.skipped.push({ id: i.entry.id, why: r });
        continue;
      }
      resealed.add(i.entry.id);
      report.resubmitted.push({ id: i.entry.id, docId: h.docId, seq: h.seq, leaseId, envelopeHash: r.envelopeHash });
    }
    // The relay stored nothing after a refused seq of a document: every waiting envelope behind one that
    // still names an older lease would be refused as lease_expired in turn. Seal those under the current lease.
    const firstByDoc = new Map<string, number>();
    for (const r of report.resubmitted) if (resealed.has(r.id)) firstByDoc.set(r.docId, Math.min(firstByDoc.get(r.docId) ?? Infinity, r.seq));
    const again = new Set(report.resubmitted.map(r => `${r.docId}:${r.seq}`));
    for (const [docId, first] of firstByDoc)
      for (const e of await docs.outbox.pending(docId)) {
        if (e.seq <= first || again.has(`${docId}:${e.seq}`)) continue;
        const d = decodeEnvelope(e.bytes);
        if (!d.ok || d.value.header.deviceId !== deviceId || d.value.header.leaseId === leaseId || d.value.header.leaseId === '') continue;
        if (typeof (await reseal(e.bytes)) !== 'string') report.resealedBehind++;
      }
  });
  return { ok: true, value: report };
}

/**
 * After a push: a resubmitted entry whose new envelope has left the outbox is done — acked by the relay
 * (removed from the quarantine), or refused again (then the new quarantine entry, same changes, supersedes
 * the old one). Returns how many entries were settled.
 */
export async function settleResubmitted(docs: DocSession): Promise<number> {
  return docs.withLock(async () => {
    const items = await classify(docs);
    let n = 0;
    for (const i of items) {
      if (i.state !== 'resubmitted') continue;
      const h = i.header!;
      const waiting = await docs.outbox.get(h.docId, h.seq);
      if (waiting) continue;
      await docs.quarantine.remove(i.entry.id);
      n++;
    }
    return n;
  });
}
