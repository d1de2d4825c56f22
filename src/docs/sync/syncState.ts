// What the sync client remembers per workspace between runs, sealed in the profile's encrypted state
// storage: the relay cursor (advanced only past envelopes fully applied), the relay key pinned on first
// use (TOFU), the latest verified lease, the latest time ever seen (for the offline lock), and the
// evidence of a membership-log fork once one was detected.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../../crypto/bytes.ts';
import type { ForkEvidence } from './chainSync.ts';

const KEY = ['cloister-sync', 'state'];

const isForkEvidence = (f: unknown): f is ForkEvidence =>
  typeof f === 'object' && f !== null && Number.isSafeInteger((f as ForkEvidence).index) && typeof (f as ForkEvidence).ours === 'string' &&
  typeof (f as ForkEvidence).theirs === 'string' && typeof (f as ForkEvidence).detail === 'string' && Number.isSafeInteger((f as ForkEvidence).detectedAt);

export interface SyncState {
  /** Envelopes with relaySeq <= cursor have been applied (or are held/quarantined locally). */
  relayCursor: number;
  /** The relay's Ed25519 public key (base64url), pinned at the first connection. */
  relayPub?: string;
  /** The newest verified lease bytes (base64url). */
  lease?: string;
  /** max(every local clock reading, every relay time) so far, ms: resists clock rollback. */
  lastSeen: number;
  /** Set when the relay was caught forking the membership log: syncing stops, the evidence stays. */
  fork?: ForkEvidence;
  /**
   * The highest relay seq acknowledged for an envelope of this device (or seen in a pull of its own).
   * The relay leaves a device's own envelopes out of its pulls and says up to where it skipped some: one
   * above this means the relay holds envelopes of ours this profile never saw acknowledged (a profile
   * restored from an older copy, a lost state), and the engine reads that page again with them.
   * docs/SYNC.md → Own envelopes.
   */
  ownAcked?: number;
  /** Per document, envelopes applied or acked since its last snapshot from this device (docs/SNAPSHOTS.md). */
  snapshotDue?: Record<string, number>;
}

/** Only well-formed counts survive a load; anything else is forgotten (the next snapshot just comes later). */
function snapshotDueOf(v: unknown): Record<string, number> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) if (k.length <= 128 && Number.isSafeInteger(n) && (n as number) > 0) out[k] = n as number;
  return Object.keys(out).length ? out : undefined;
}

export const emptySyncState = (): SyncState => ({ relayCursor: 0, lastSeen: 0 });

export class SyncStateStore {
  constructor(private readonly storage: StorageAdapterInterface) {}

  async load(): Promise<SyncState> {
    const bytes = await this.storage.load(KEY);
    if (!bytes) return emptySyncState();
    try {
      const v = JSON.parse(fromUtf8(bytes)) as Partial<SyncState>;
      return {
        relayCursor: Number.isSafeInteger(v.relayCursor) && v.relayCursor! >= 0 ? v.relayCursor! : 0,
        ...(typeof v.relayPub === 'string' ? { relayPub: v.relayPub } : {}),
        ...(typeof v.lease === 'string' ? { lease: v.lease } : {}),
        lastSeen: Number.isSafeInteger(v.lastSeen) ? v.lastSeen! : 0,
        ...(isForkEvidence(v.fork) ? { fork: v.fork } : {}),
        ...(Number.isSafeInteger(v.ownAcked) && v.ownAcked! > 0 ? { ownAcked: v.ownAcked! } : {}),
        ...(snapshotDueOf(v.snapshotDue) ? { snapshotDue: snapshotDueOf(v.snapshotDue)! } : {}),
      };
    } catch {
      return emptySyncState(); // a damaged record re-pulls from 0 (duplicates are no-ops) and re-pins on next connect
    }
  }

  async save(s: SyncState): Promise<void> {
    await this.storage.save(KEY, utf8(JSON.stringify(s)));
  }

  /** Load, change, save (one workspace's sync runs in one process at a time). */
  async update(fn: (s: SyncState) => void): Promise<SyncState> {
    const s = await this.load();
    fn(s);
    await this.save(s);
    return s;
  }
}
