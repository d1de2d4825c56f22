// Pruning under snapshots (docs/RELAY.md → Snapshots and pruning): once a snapshot is older than the
// operator's retention (relay clock), the envelopes it covers are deleted — except each (device, doc)'s
// newest, the workspace's highest relay seq, and anything a newer snapshot of the document does not
// cover (RelayStore.pruneCoveredEnvelopes). A round takes due snapshots in batches, one transaction per
// snapshot, yielding to the event loop between them; rounds never overlap, and stop() waits for the
// one under way so the store is never used after it closes.
import type { RelayContext } from './context.ts';

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export interface PruneRound {
  /** Snapshots whose covered envelopes were pruned this round (by this instance). */
  snapshots: number;
  /** Envelopes deleted. */
  envelopes: number;
}

export class SnapshotPruner {
  private running: Promise<PruneRound> | undefined;
  private stopped = false;

  constructor(private readonly ctx: Pick<RelayContext, 'store' | 'now' | 'limits' | 'log' | 'metrics'>) {}

  /** One round: every snapshot due now, batch by batch. A round already under way is joined, not doubled. */
  round(): Promise<PruneRound> {
    return (this.running ??= this.run().finally(() => (this.running = undefined)));
  }

  /** No new snapshot is started after this; resolves once the round under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<PruneRound> {
    const { store, limits, log, metrics } = this.ctx;
    const done: PruneRound = { snapshots: 0, envelopes: 0 };
    const retention = limits.snapshotRetentionMs;
    if (!retention || retention <= 0 || this.stopped) return done; // 0: never prune
    const batch = Math.max(1, Math.floor(limits.snapshotPruneBatch));
    const started = performance.now();
    for (;;) {
      const due = await store.snapshotsDueForPruning(this.ctx.now() - retention, batch);
      for (const s of due) {
        if (this.stopped) break;
        const n = await store.pruneCoveredEnvelopes(s, this.ctx.now());
        done.snapshots++;
        done.envelopes += n;
        metrics.envelopesPruned.inc(n);
        metrics.snapshotsPruned.inc();
        await yieldToEventLoop();
      }
      // A short batch means nothing else is due (each call above took its snapshot out of the due set).
      if (this.stopped || due.length < batch) break;
    }
    if (done.snapshots)
      log.info({ snapshots: done.snapshots, envelopes: done.envelopes, retentionMs: retention, ms: Math.round(performance.now() - started) }, 'pruned envelopes covered by snapshots');
    return done;
  }
}
