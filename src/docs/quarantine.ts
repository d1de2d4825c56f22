// The quarantine: every envelope refused by a check, kept (encrypted, via the state storage) with its
// reason, detail, time and source. Nothing is silently dropped; people and tooling can list and
// export it (DESIGN → Change envelope).
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { ByteReader, ByteWriter, toBase64url } from '../crypto/bytes.ts';
import { envelopeHashOf } from './envelope/envelopeHash.ts';
import { describeEnvelopeRejection } from './rejections.ts';

const PREFIX = 'cloister-quarantine';
const RECORD_VERSION = 1;

export interface QuarantinedEnvelope {
  /** envelopeHash + '-' + reason: the same bytes refused for the same reason are kept once. */
  id: string;
  reason: string;
  detail?: string;
  /** When it was quarantined (ms). */
  at: number;
  /** Where it came from, e.g. 'relay', 'pending'. */
  source: string;
  envelopeHash: string;
  bytes: Uint8Array;
}

/** What people see of one quarantined envelope: its reason in words, when, and where it came from. */
export interface QuarantineSummary {
  id: string;
  reason: string;
  description: string;
  detail?: string;
  at: string;
  source: string;
}

export function summarizeQuarantined(q: QuarantinedEnvelope): QuarantineSummary {
  return {
    id: q.id,
    reason: q.reason,
    description: describeEnvelopeRejection(q.reason),
    ...(q.detail ? { detail: q.detail } : {}),
    at: new Date(q.at).toISOString(),
    source: q.source,
  };
}

export class Quarantine {
  constructor(
    private readonly storage: StorageAdapterInterface,
    private readonly now: () => number = Date.now,
  ) {}

  async add(bytes: Uint8Array, reason: string, detail?: string, source = 'relay'): Promise<QuarantinedEnvelope> {
    const envelopeHash = envelopeHashOf(bytes);
    const entry: QuarantinedEnvelope = { id: `${envelopeHash}-${reason}`, reason, detail, at: this.now(), source, envelopeHash, bytes };
    const value = new ByteWriter()
      .u8(RECORD_VERSION)
      .string(reason)
      .string(detail ?? '')
      .u64(entry.at)
      .string(source)
      .bytes(bytes)
      .finish();
    await this.storage.save([PREFIX, entry.id], value);
    return entry;
  }

  async list(): Promise<QuarantinedEnvelope[]> {
    const out: QuarantinedEnvelope[] = [];
    for (const c of await this.storage.loadRange([PREFIX])) {
      if (!c.data || c.key.length !== 2) continue;
      const r = new ByteReader(c.data);
      if (r.u8() !== RECORD_VERSION) continue;
      const reason = r.string();
      const detail = r.string();
      const at = r.u64();
      const source = r.string();
      const bytes = r.bytes();
      if (reason === undefined || detail === undefined || at === undefined || source === undefined || bytes === undefined) continue;
      out.push({ id: c.key[1]!, reason, detail: detail || undefined, at, source, envelopeHash: envelopeHashOf(bytes), bytes: bytes.slice() });
    }
    return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  }

  /** JSON-ready export: reason words included, envelope bytes as base64url. */
  async export(): Promise<(QuarantineSummary & { envelope: string })[]> {
    return (await this.list()).map(q => ({ ...summarizeQuarantined(q), envelope: toBase64url(q.bytes) }));
  }

  /** Counts by reason, for reports. */
  async countsByReason(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const q of await this.list()) counts[q.reason] = (counts[q.reason] ?? 0) + 1;
    return counts;
  }

  async remove(id: string): Promise<void> {
    await this.storage.remove([PREFIX, id]);
  }
}
