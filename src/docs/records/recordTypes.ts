// The record model shared by the CLI and the React app (DESIGN → Documents and changes, normative).
// A record is one Automerge document. Title and field values are registers (an edit assigns the whole
// value; concurrent assignments keep one winner and show the others as conflicts), notes are
// collaborative text, and `deleted` is a tombstone flag. The workspace index lists only which records
// exist; everything a record owns is read from the record.
import type * as A from '@automerge/automerge';

/** One record document as stored. Any member can write anything into it: read it with readRecord(). */
export interface RecordDoc {
  id: string;
  title: A.ImmutableString;
  fields: Record<string, A.ImmutableString>;
  notes: string;
  tags: string[];
  /** Tombstone; a concurrent `true` wins over a concurrent restore. */
  deleted: boolean;
}

/** The workspace index document: record id → true. Nothing a record owns is copied here. */
export type IndexDoc = Record<string, unknown>;

/** A verified author: the device that signed the envelope, and the member it belongs to. */
export interface Author {
  userId: string;
  deviceId: string;
  /** The author's claimed time (ms) from the envelope header: claimed, not verified. */
  claimedTime: number;
}

/** A record as people see it. */
export interface RecordView {
  id: string;
  title: string;
  fields: Record<string, string>;
  notes: string;
  tags: string[];
  deleted: boolean;
  /** Values that lost a concurrent assignment, by path ('title', 'fields.KEY'); resolved by assigning a value. */
  conflicts: Record<string, string[]>;
  /** Who made the record's first change, from verified envelopes (absent when no envelope covers it). */
  createdBy?: Author;
  /** Who made the changes at the record's current heads (several after concurrent edits), from verified envelopes. */
  updatedBy: Author[];
  /** Parts that aren't of the expected shape (a damaged record still shows what can be read). */
  damaged?: string[];
  /** The heads this view was read at: an editor passes them back as `baseHeads` so its save merges. */
  heads: string[];
}

export interface RecordSummary {
  id: string;
  title: string;
  deleted: boolean;
  /** True when the record has unresolved conflicts. */
  conflicted?: boolean;
  damaged?: boolean;
  /** With list({ details: true }) only: the record's tags. */
  tags?: string[];
  /** With details: claimed time (ms) of the latest verified change (claimed by its author, not verified). */
  updatedAt?: number;
  /** With details: the user behind that change (verified from its envelope). */
  updatedBy?: string;
  /** With details: title, field keys and values, notes and tags, normalised for search (findRecords). */
  searchText?: string;
  /** With details, for a deleted record: who set the tombstone (verified) and their claimed time. */
  deletedBy?: string;
  deletedAt?: number;
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
  /** The values before and after these changes, per path that now reads differently (historyValues). */
  values?: ValueChange[];
  /**
   * The device whose snapshot named the author (docs/SNAPSHOTS.md): the actor recomputes from the named
   * device's key, but no checked signature of that device covers these changes, so `verified` is false.
   */
  viaSnapshot?: string;
}

/** A value as history shows it: text for title, fields and notes, a list for tags, a flag for deleted. */
export type HistoryValue = string | string[] | boolean;

/**
 * One path's value before and after a change group, as its author saw it (the record at the group's
 * dependencies, then with the group applied). `old` is absent for a field that didn't exist, `new`
 * for a field removed. Long notes come as lengths and a short diff instead of the full text.
 */
export interface ValueChange {
  path: string;
  old?: HistoryValue;
  new?: HistoryValue;
  /** Notes too long to show whole: the lengths, and the first characters removed and added. */
  notesDiff?: { oldLength: number; newLength: number; removed: string; added: string };
}
