// Every reason a change envelope can be refused, listed once with the words shown to people.
// Clients quarantine with these codes; the relay counts them in its metrics; `cloister sim` tallies
// them. Dependency-free on purpose so the relay can import it. Codes are stable: never rename one.

export const ENVELOPE_REJECTIONS = {
  // Decoding (anyone can check)
  envelope_malformed: 'the envelope bytes do not parse as a change envelope',
  envelope_version_unsupported: 'the envelope uses a format version this software does not know',
  envelope_too_large: 'the envelope is larger than the allowed maximum',
  wrong_workspace: 'the envelope names a different workspace than the one it was sent to',
  // Signature and membership (relay and readers)
  unknown_device: 'the signing device is not known in this workspace',
  bad_signature: 'the Ed25519 signature does not verify under the device key',
  not_a_member: 'the device belongs to someone who is not (or no longer) a member',
  device_revoked: 'the signing device has been revoked',
  no_write_permission: 'the member\'s role (reader) does not allow writing',
  // Leases (relay)
  lease_unknown: 'the envelope names an offline lease the relay never issued',
  lease_expired: 'the envelope was written under an offline lease that has expired',
  log_position_unknown: 'the envelope names a membership-log position (index and head) that the chain does not have',
  log_fork: 'the envelope names another membership-log entry at an index where this device holds a different one: the relay forked the log, and syncing this workspace stops',
  // Decryption and contents (readers only)
  unknown_epoch: 'no key is available for the epoch the envelope claims (the relay refuses an epoch beyond the workspace\'s current one)',
  decrypt_failed: 'the ciphertext does not open under the document key (tampered or wrong key)',
  changes_malformed: 'the decrypted body is not a list of valid Automerge changes',
  changes_compressed: 'a change is a compressed Automerge chunk; Cloister clients never write them, so it is refused unread',
  automerge_rejected: 'Automerge refused the changes (or they left a document that would not load back); the document was restored',
  changes_empty: 'the envelope carries no changes',
  actor_mismatch: 'a change\'s actor does not belong to the device and session that signed it',
  // Sequence (relay and readers)
  seq_replay: 'a different envelope already used this (device, document, sequence) number, or it is older than one already applied',
  seq_gap: 'earlier envelopes from this device for this document are missing; held until they arrive',
  covered_by_snapshot: 'the relay already pruned this envelope under a document snapshot that holds its changes (a late re-send; nothing is lost)',
  // Waiting (readers only)
  dependency_missing: 'too many envelopes from this device for this document were waiting for changes that never arrived',
} as const;

export type EnvelopeRejection = keyof typeof ENVELOPE_REJECTIONS;

export const ENVELOPE_REJECTION_CODES = Object.keys(ENVELOPE_REJECTIONS) as EnvelopeRejection[];

export const isEnvelopeRejection = (code: string): code is EnvelopeRejection =>
  Object.prototype.hasOwnProperty.call(ENVELOPE_REJECTIONS, code);

/** Words for a reason code; unknown codes are shown as they are. */
export const describeEnvelopeRejection = (code: string): string =>
  isEnvelopeRejection(code) ? ENVELOPE_REJECTIONS[code] : code;
