// What openEnvelope needs to know about the workspace, behind a small interface so envelope
// checks don't depend on the membership store (tests use fixtures; the app adapts the workspace state).
import { toBase64url } from '../../crypto/bytes.ts';
import type { DocumentKey, PublicKey } from '../../crypto/keys.ts';

export interface EnvelopeDeviceInfo {
  deviceId: string;
  userId: string;
  signingPub: PublicKey;
  revoked: boolean;
}

export type WriteRefusal = 'not_a_member' | 'device_revoked' | 'no_write_permission';

export interface EnvelopeAuthority {
  /** The workspace whose envelopes this authority judges. */
  readonly workspaceId: string;
  /** The device as the membership log knows it (revoked or not), or undefined if never admitted. */
  deviceInfo(deviceId: string): EnvelopeDeviceInfo | undefined;
  /** May this device write now? true, or why not (member removed, device revoked, reader role). */
  canWriteDevice(deviceId: string): true | WriteRefusal;
  /**
   * Optional: may this device have written an envelope sealed under `epoch`? Lets a reader keep what a
   * since-removed member (or revoked device) wrote under an epoch it still belonged to, which the relay
   * accepted before the removal. Used instead of canWriteDevice when present.
   */
  canWriteDeviceAt?(deviceId: string, epoch: number): true | WriteRefusal;
  /**
   * Optional: the membership-log entry id (base64url) at `index` of the reader's chain, or undefined when
   * its chain is shorter. When present, an envelope naming another entry at its logIndex is refused as
   * log_fork (the log forked), and one naming an index the reader lacks as log_position_unknown
   * (the reader is behind: curable by a log sync).
   */
  logEntryAt?(index: number): string | undefined;
  /** The document key for this epoch and document, or undefined if this reader holds no key for the epoch. */
  documentKey(epoch: number, docId: string): DocumentKey | undefined;
}

/** The sequence state a reader has applied, per (device, doc). */
export interface SeqView {
  /** Highest sequence number applied (or held as applied) for (device, doc); 0 if none. */
  lastSeq(deviceId: string, docId: string): number;
  /** The hash of the envelope applied at this seq, if remembered (to tell re-delivery from replay). */
  envelopeHashAt(deviceId: string, docId: string, seq: number): string | undefined;
  /** Optional: the highest seq of (device, doc) whose changes came in a snapshot, with no envelope hash kept. */
  coveredThrough?(deviceId: string, docId: string): number;
}

/**
 * DESIGN → Fork detection in the data plane: a signed envelope or snapshot names the membership-log
 * position its author had. Undefined when the reader's chain has that entry (or the authority does not
 * judge positions); else log_position_unknown (the reader is behind: curable by a log sync) or log_fork.
 */
export function logPositionRefusal(authority: EnvelopeAuthority, logIndex: number, logHead: Uint8Array): { reason: 'log_position_unknown' | 'log_fork'; detail: string } | undefined {
  if (!authority.logEntryAt) return undefined;
  const ours = authority.logEntryAt(logIndex);
  if (ours === undefined) return { reason: 'log_position_unknown', detail: `index ${logIndex}` };
  const theirs = toBase64url(logHead);
  if (ours !== theirs) return { reason: 'log_fork', detail: `index ${logIndex}: ours ${ours}, theirs ${theirs}` };
  return undefined;
}
