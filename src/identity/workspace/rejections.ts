// Every reason a membership-log entry, a lockbox or the workspace store can be refused, listed once.
// Codes are stable: the relay counts them, `cloister sim` reports them, and users see the words.

export const WORKSPACE_REJECTIONS = {
  // Decoding
  entry_malformed: 'the entry is not a well-formed membership entry',
  entry_not_canonical: 'the entry body is not in canonical form',
  entry_wrong_version: 'the entry has an unknown format version',
  entry_wrong_workspace: 'the entry belongs to another workspace',
  entry_bad_position: 'the entry names an impossible chain position (a create entry is index 0 with no prev, and only it)',
  log_format_v1:
    'this workspace uses membership-log format 1 (a DAG, before the relay-sequenced chain); this version refuses it because old admins could rewrite it. See docs/MIGRATION.md',
  // Log structure
  entry_duplicate: 'the entry is already in the log',
  log_stale: 'the entry was built on an older head of the log; rebuild it on the current head',
  log_no_root: 'the log has no create entry',
  create_not_first: 'a create entry can only start a log',
  entry_not_countersigned: 'the relay did not countersign this log entry',
  countersig_invalid: "the relay's countersignature on this log entry does not verify under the pinned relay key",
  log_fork: 'the relay showed two different entries at one position of the log (a forked log)',
  entry_time_skew: "the entry's time is too far from the relay's clock",
  // Authorship
  entry_bad_signature: 'the entry signature does not verify under the author device key',
  entry_author_unknown: 'the author device is not in the workspace',
  entry_author_inactive: 'the author device is revoked or its user removed',
  entry_not_permitted: "the author's role does not allow this entry",
  // Members and devices
  member_unknown: 'no such member',
  member_exists: 'that user is already a member',
  member_was_removed: 'that user was removed from the workspace and cannot join again (the person can join as a new identity with a new invitation)',
  member_already_removed: 'that member was already removed',
  last_admin: 'the workspace would be left without an admin',
  role_invalid: 'unknown role',
  device_unknown: 'no such device',
  device_exists: 'that device is already in the workspace',
  device_already_revoked: 'that device is already revoked',
  device_id_mismatch: 'the device id is not the hash of its signing key',
  device_proof_invalid: 'the new device did not sign its own enrolment',
  device_link_invalid: 'the device-link code or proof does not verify',
  link_message_unopenable: 'a device-link message does not open under this code (altered, or sealed for another code or step)',
  // Invitations
  invitation_unknown: 'no such invitation',
  invitation_exists: 'that invitation already exists',
  invitation_revoked: 'the invitation was revoked',
  invitation_expired: 'the invitation has expired',
  invitation_used: 'the invitation has been used up',
  invitation_proof_invalid: 'the proof of the invitation code does not verify',
  invitation_code_invalid: 'the invitation code is not well formed',
  // Epochs and keys
  rotation_wrong_epoch: 'the rotation does not start the next epoch',
  rotation_wrong_previous: 'the rotation does not follow the current epoch key',
  rotation_missing_lockbox: 'the rotation leaves out a current device',
  rotation_unexpected_lockbox: 'the rotation seals a key to a device or invitation that must not get it',
  rotation_required: 'removing a member or revoking a device must rotate the epoch key',
  epoch_unknown: 'the entry refers to an epoch the log does not have',
  epoch_no_lockbox: 'this device has no lockbox in the workspace',
  epoch_lockbox_unopenable: 'the lockbox does not open with this device key',
  epoch_key_check_failed: 'the opened key does not match the epoch key commitment in the log',
  epoch_chain_broken: 'an older epoch key could not be recovered from the chain',
  policy_invalid: 'the policy values are out of range',
  // Limits (per role)
  limit_devices: 'the member already has as many devices as their role allows',
  limit_entries_per_day: 'the author has made as many log entries in the last 24 hours as their role allows',
  // Local store
  store_missing: 'no stored copy of that workspace',
  store_corrupt: 'the stored workspace file is damaged',
  store_wrong_key: 'the stored workspace file does not open with this vault',
} as const;

export type WorkspaceRejection = keyof typeof WORKSPACE_REJECTIONS;

export const describeRejection = (code: WorkspaceRejection): string => WORKSPACE_REJECTIONS[code];
