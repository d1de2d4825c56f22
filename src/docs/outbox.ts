// The outbox: sealed envelopes not yet acknowledged by the relay, persisted (through the encrypted
// state storage) before the edit that made them resolves (DESIGN → Outbox). Keyed by (doc, seq);
// a sync client pushes `pending()` in order and calls `ack` when the relay has stored one.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';

const PREFIX = 'cloister-outbox';
const seqPart = (seq: number): string => String(seq).padStart(16, '0');

export interface OutboxEntry {
  docId: string;
  seq: number;
  bytes: Uint8Array;
}

export class Outbox {
  constructor(private readonly storage: StorageAdapterInterface) {}

  /** Persist an envelope; resolves once it is on disk. */
  async put(docId: string, seq: number, bytes: Uint8Array): Promise<void> {
    await this.storage.save([PREFIX, docId, seqPart(seq)], bytes);
  }

  /** Every unacknowledged envelope, ordered by doc then seq (push in this order). */
  async pending(docId?: string): Promise<OutboxEntry[]> {
    const chunks = await this.storage.loadRange(docId === undefined ? [PREFIX] : [PREFIX, docId]);
    const out: OutboxEntry[] = [];
    for (const c of chunks) {
      if (c.data === undefined || c.key.length !== 3) continue;
      out.push({ docId: c.key[1]!, seq: Number(c.key[2]), bytes: c.data });
    }
    return out.sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : a.seq - b.seq));
  }

  /** The highest seq waiting for this doc, or 0. Reads every entry: not for the sealing hot path. */
  async maxSeq(docId: string): Promise<number> {
    return (await this.pending(docId)).reduce((m, e) => Math.max(m, e.seq), 0);
  }

  /** The envelope waiting at (doc, seq), if any: one read, whatever the outbox's size. */
  async get(docId: string, seq: number): Promise<Uint8Array | undefined> {
    return this.storage.load([PREFIX, docId, seqPart(seq)]);
  }

  /** The relay has stored (doc, seq): forget it. */
  async ack(docId: string, seq: number): Promise<void> {
    await this.storage.remove([PREFIX, docId, seqPart(seq)]);
  }
}
