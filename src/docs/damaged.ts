// Documents this profile holds but cannot read: stored chunks that do not load, or remote changes
// that were flushed and are now gone. They are reported (status, the web app), never replaced by an
// empty document, and envelopes for them wait in the pending store (DESIGN → Hostile change bytes).
// Kept in the encrypted state storage, one small JSON record per document.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../crypto/bytes.ts';

const PREFIX = 'cloister-damaged';

/** Why a stored document is damaged; stable codes, described once in DAMAGED_WORDS. */
export type DamageReason =
  /** Chunks are stored but Automerge refuses to load them (e.g. "error inflating document chunk"). */
  | 'document_unreadable'
  /** Changes from other devices were applied and saved, but no stored chunk can be read now. */
  | 'document_missing';

export const DAMAGED_WORDS: Record<DamageReason, string> = {
  document_unreadable: 'the stored document does not load; it is kept as it is and not replaced',
  document_missing: 'changes received for this document were saved but can no longer be read from disk',
};

export interface DamagedDocument {
  docId: string;
  reason: DamageReason;
  /** Automerge's or the storage's own words. */
  detail?: string;
  /** When it was first found damaged (ms). */
  at: number;
}

export class DamagedRegistry {
  readonly #cache = new Map<string, DamagedDocument>();
  #loaded = false;

  constructor(private readonly storage: StorageAdapterInterface) {}

  async add(d: DamagedDocument): Promise<DamagedDocument> {
    const have = await this.get(d.docId);
    if (have && have.reason === d.reason) return have; // keep the first sighting's time
    await this.storage.save([PREFIX, d.docId], utf8(JSON.stringify(d)));
    this.#cache.set(d.docId, d);
    return d;
  }

  async get(docId: string): Promise<DamagedDocument | undefined> {
    await this.#load();
    return this.#cache.get(docId);
  }

  async list(): Promise<DamagedDocument[]> {
    await this.#load();
    return [...this.#cache.values()].sort((a, b) => a.at - b.at || (a.docId < b.docId ? -1 : 1));
  }

  /** After a repair (the document loads again). */
  async remove(docId: string): Promise<void> {
    await this.storage.remove([PREFIX, docId]);
    this.#cache.delete(docId);
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    for (const c of await this.storage.loadRange([PREFIX])) {
      if (!c.data || c.key.length !== 2) continue;
      try {
        const d = JSON.parse(fromUtf8(c.data)) as DamagedDocument;
        if (typeof d.docId === 'string' && (d.reason === 'document_unreadable' || d.reason === 'document_missing')) this.#cache.set(d.docId, d);
      } catch {
        // an unreadable record is left out; the next open finds the document damaged again
      }
    }
    this.#loaded = true;
  }
}
