// Every domain-separation string Cloister signs, encrypts or derives under, in one place.
// Never build one inline: add it here, so two purposes can't share a string by accident.
export const DOMAIN = {
  // AEAD associated-data prefixes
  vault: 'cloister/vault/v1',
  vaultRecovery: 'cloister/vault-recovery/v1',
  storage: 'cloister/storage/v1',
  lockbox: 'cloister/lockbox/v1',
  workspaceStore: 'cloister/workspace-store/v1',
  sealedName: 'cloister/sealed-name/v1',
  envelopeBody: 'cloister/envelope-body/v1',
  snapshotBody: 'cloister/snapshot-body/v1',
  epochChain: 'cloister/epoch-chain/v1',
  deviceLinkMailbox: 'cloister/device-link-mailbox/v1',
  // Signature prefixes
  change: 'cloister/change/v1',
  snapshot: 'cloister/snapshot/v1',
  membership: 'cloister/membership/v1',
  logCountersign: 'cloister/log-countersign/v1',
  relayChallenge: 'cloister/relay-challenge/v1',
  lease: 'cloister/lease/v1',
  relayAuth: 'cloister/relay-auth/v1',
  relayReceipt: 'cloister/relay-receipt/v1',
  relayReply: 'cloister/relay-reply/v1',
  invitationProof: 'cloister/invitation-proof/v1',
  deviceLinkProof: 'cloister/device-link-proof/v1',
  // Keyed checks and hashed identifiers (membership log)
  epochCheck: 'cloister/epoch-check/v1',
  invitationId: 'cloister/invitation-id/v1',
  workspaceStoreName: 'cloister/workspace-store-name/v1',
  // Public identifiers derived by hashing (docs)
  indexDocId: 'cloister/index-doc-id/v1',
  snapshotId: 'cloister/snapshot-id/v1',
  // Identifier derivation
  deviceId: 'cloister/device-id/v1',
  // AEAD key commitment
  commitment: 'cloister/aead-commitment/v1',
} as const;

// HKDF info strings: one purpose per key.
export const INFO = {
  storageKey: 'cloister/hkdf/storage-key/v1',
  storageNames: 'cloister/hkdf/storage-names/v1',
  workspaceStoreKey: 'cloister/hkdf/workspace-store/v1',
  documentKey: 'cloister/hkdf/document-key/v1',
  nameKey: 'cloister/hkdf/name-key/v1',
  lockboxKey: 'cloister/hkdf/lockbox-key/v1',
  invitationKey: 'cloister/hkdf/invitation-key/v1',
  outboxKey: 'cloister/hkdf/outbox-key/v1',
  snapshotIdKey: 'cloister/hkdf/snapshot-id-key/v1',
  vaultRecoveryKek: 'cloister/hkdf/vault-recovery-kek/v1',
} as const;

export type Domain = (typeof DOMAIN)[keyof typeof DOMAIN];
export type Info = (typeof INFO)[keyof typeof INFO];
