// The typed record model shared by the CLI and the React app (DESIGN → Documents and changes).
// A record is one Automerge document; the workspace index is another, listing record ids and titles.

/** One record document. Strings are Automerge text (collaborative); `notes` is edited with updateText. */
export interface RecordDoc {
  id: string;
  title: string;
  fields: Record<string, string>;
  notes: string;
  tags: string[];
  createdAt: number;
  /** userId of the creator, as claimed by the author; history() gives the verified device. */
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
  /** Tombstone: once true it stays true; concurrent edits are kept but the record stays deleted. */
  deleted: boolean;
}

/** The workspace index document: record id → summary. The root map holds entries directly, so two
 * devices that start the index independently merge without one hiding the other's entries. */
export type IndexDoc = Record<string, IndexEntry>;

export interface IndexEntry {
  title: string;
  deleted: boolean;
}

export interface RecordSummary {
  id: string;
  title: string;
  deleted: boolean;
}

export interface RecordInput {
  title: string;
  fields?: Record<string, string>;
  notes?: string;
  tags?: string[];
}

export interface RecordPatch {
  title?: string;
  /** A null value removes the field. */
  fields?: Record<string, string | null>;
  notes?: string;
  tags?: string[];
}

export interface HistoryEntry {
  /** True when these changes came in (or went out) in an envelope whose signature and actor were checked. */
  verified: boolean;
  deviceId?: string;
  userId?: string;
  /** The author's claimed time (ms), from the envelope header (not trusted). */
  claimedTime?: number;
  seq?: number;
  envelopeHash?: string;
  /** Automerge actor of the changes (for unverified entries: the only attribution there is). */
  actor: string;
  changes: number;
  /** What changed: 'title', 'notes', 'tags', 'deleted', 'fields.KEY', … */
  fields: string[];
}
