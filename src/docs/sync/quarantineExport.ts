// `cloister quarantine export`: every quarantined envelope as JSON — the envelope bytes (base64url),
// the reason in words, its public header (doc, device, seq, lease id) and its state. No plaintext unless
// asked (`decrypt`): then each envelope that opens under this device's keys adds a summary of its
// Automerge changes (hash, actor, seq, time, message, deps and the decoded operations) for the user's records.
import * as A from '@automerge/automerge';
import { toBase64url } from '../../crypto/bytes.ts';
import type { DocSession } from '../DocSession.ts';
import { openEnvelope } from '../envelope/openEnvelope.ts';
import { summarizeQuarantined } from '../quarantine.ts';
import type { LiveWorkspace } from './LiveWorkspace.ts';
import { listQuarantine, type QuarantineState } from './resubmit.ts';

export interface QuarantineExportItem {
  id: string;
  reason: string;
  description: string;
  detail?: string;
  at: string;
  source: string;
  state: QuarantineState;
  docId?: string;
  deviceId?: string;
  seq?: number;
  epoch?: number;
  leaseId?: string;
  claimedTime?: string;
  envelopeHash: string;
  /** The envelope bytes, base64url. */
  envelope: string;
  /** Only with `decrypt`: the decoded changes, or why they could not be opened. */
  changes?: ChangeSummary[];
  decryptError?: string;
}

export interface ChangeSummary {
  hash: string;
  actor: string;
  seq: number;
  time: number;
  message: string | null;
  deps: string[];
  ops: unknown[];
}

export interface QuarantineExport {
  format: 'cloister-quarantine-export';
  version: 1;
  workspaceId: string;
  exportedAt: string;
  decrypted: boolean;
  items: QuarantineExportItem[];
}

/** JSON-safe: bytes as base64url, bigints as strings. */
function jsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return { base64url: toBase64url(v) };
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

/** Consecutive one-character text inserts (how Automerge encodes a typed string) become one `insertText` op. */
function compactOps(ops: A.DecodedChange["ops"]): unknown[] {
  const out: unknown[] = [];
  let run: { action: 'insertText'; obj: string; after: string; text: string } | undefined;
  for (const op of ops) {
    const o = op as { action: string; obj: string; elemId?: string; insert?: boolean; value?: unknown };
    if (o.action === 'set' && o.insert && typeof o.value === 'string' && o.value.length === 1) {
      if (run && run.obj === o.obj) run.text += o.value;
      else out.push((run = { action: 'insertText', obj: o.obj, after: o.elemId ?? '', text: o.value }));
      continue;
    }
    run = undefined;
    out.push(jsonSafe(op));
  }
  return out;
}

export async function exportQuarantine(docs: DocSession, live: LiveWorkspace, o: { decrypt?: boolean; now?: () => number } = {}): Promise<QuarantineExport> {
  const items: QuarantineExportItem[] = [];
  for (const { entry: q, header: h, state } of await listQuarantine(docs)) {
    const item: QuarantineExportItem = {
      ...summarizeQuarantined(q),
      state,
      ...(h ? { docId: h.docId, deviceId: h.deviceId, seq: h.seq, epoch: h.epoch, leaseId: h.leaseId, claimedTime: new Date(h.claimedTime).toISOString() } : {}),
      envelopeHash: q.envelopeHash,
      envelope: toBase64url(q.bytes),
    };
    if (o.decrypt) {
      const opened = openEnvelope(q.bytes, live, docs.cursors, { skipSequence: true });
      if (!opened.ok) item.decryptError = opened.reason;
      else
        item.changes = opened.value.changes.map(c => {
          const d = A.decodeChange(c);
          return { hash: d.hash ?? '', actor: d.actor, seq: d.seq, time: d.time, message: d.message ?? null, deps: d.deps, ops: compactOps(d.ops) };
        });
    }
    items.push(item);
  }
  return {
    format: 'cloister-quarantine-export',
    version: 1,
    workspaceId: live.workspaceId,
    exportedAt: new Date((o.now ?? Date.now)()).toISOString(),
    decrypted: !!o.decrypt,
    items,
  };
}
