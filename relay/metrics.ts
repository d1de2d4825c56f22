// Prometheus metrics, one registry per relay instance (so tests can run several relays in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface RelayMetrics {
  registry: Registry;
  accepted: Counter;
  rejected: Counter<'reason'>;
  held: Counter;
  connections: Gauge;
  connectionsTotal: Counter;
  bytesIn: Counter;
  bytesOut: Counter;
  malformed: Counter;
  mailbox: Counter<'op' | 'result'>;
  /** New snapshots stored (not duplicates). */
  snapshotsStored: Counter;
  /** snapshot_put refused, by reason. */
  snapshotsRejected: Counter<'reason'>;
  /** Snapshots whose covered envelopes were pruned, and the envelopes deleted (relay/snapshotPruning.ts). */
  snapshotsPruned: Counter;
  envelopesPruned: Counter;
  /** Stored envelope → sent to this instance's subscribers; source 'local' (stored here) or 'cluster' (NOTIFY from another instance). */
  fanoutLatency: Histogram<'source'>;
  /** Cluster notification sent (the sender's clock) → received on this instance's LISTEN connection. */
  notificationLag: Histogram;
  /** The lag of the last notification received, seconds. */
  notificationLagLast: Gauge;
  /** Cluster notifications from other instances, received and handled. */
  notificationsReceived: Counter;
  /** Cluster notifications received but not yet delivered (the queue behind the LISTEN connection). */
  notificationsPending: Gauge;
}

/** Latency buckets, seconds: 0.5 ms to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Wall-clock ms with sub-ms resolution: comparable across processes (fan-out, notification lag), unlike performance.now(). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function createMetrics(withDefaults: boolean): RelayMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    accepted: new Counter({ name: 'cloister_envelopes_accepted_total', help: 'Envelopes stored (new, not re-sends)', registers: r }),
    rejected: new Counter({ name: 'cloister_envelopes_rejected_total', help: 'Pushes refused, by reason', labelNames: ['reason'], registers: r }),
    held: new Counter({ name: 'cloister_envelopes_held_total', help: 'Envelopes held for admin approval', registers: r }),
    connections: new Gauge({ name: 'cloister_connections', help: 'Open WebSocket connections', registers: r }),
    connectionsTotal: new Counter({ name: 'cloister_connections_total', help: 'WebSocket connections accepted', registers: r }),
    bytesIn: new Counter({ name: 'cloister_bytes_in_total', help: 'WebSocket payload bytes received', registers: r }),
    bytesOut: new Counter({ name: 'cloister_bytes_out_total', help: 'WebSocket payload bytes sent', registers: r }),
    malformed: new Counter({ name: 'cloister_malformed_messages_total', help: 'Frames that failed decoding or validation', registers: r }),
    snapshotsStored: new Counter({ name: 'cloister_snapshots_stored_total', help: 'Document snapshots stored (new, not re-sends)', registers: r }),
    snapshotsRejected: new Counter({ name: 'cloister_snapshots_rejected_total', help: 'snapshot_put refused, by reason', labelNames: ['reason'], registers: r }),
    snapshotsPruned: new Counter({ name: 'cloister_snapshots_pruned_total', help: 'Snapshots past the retention whose covered envelopes were pruned', registers: r }),
    envelopesPruned: new Counter({ name: 'cloister_envelopes_pruned_total', help: 'Envelopes deleted because a snapshot past the retention covers them', registers: r }),
    mailbox: new Counter({ name: 'cloister_mailbox_requests_total', help: 'Device-link mailbox requests, by op and result (stored, taken, too_large, …)', labelNames: ['op', 'result'], registers: r }),
    fanoutLatency: new Histogram({ name: 'cloister_fanout_latency_seconds', help: 'From storing an envelope to sending it to local subscribers, by source (local: stored by this instance; cluster: from the NOTIFY sent time)', labelNames: ['source'], buckets: LATENCY_BUCKETS, registers: r }),
    notificationLag: new Histogram({ name: 'cloister_cluster_notification_lag_seconds', help: 'From a cluster notification being sent (the sending instance\'s clock) to its receipt here', buckets: LATENCY_BUCKETS, registers: r }),
    notificationLagLast: new Gauge({ name: 'cloister_cluster_notification_lag_last_seconds', help: 'Lag of the last cluster notification received', registers: r }),
    notificationsReceived: new Counter({ name: 'cloister_cluster_notifications_received_total', help: 'Cluster notifications received from other instances', registers: r }),
    notificationsPending: new Gauge({ name: 'cloister_cluster_notifications_pending', help: 'Cluster notifications received but not yet delivered', registers: r }),
  };
}

/**
 * Storage quota usage (relay/admission.ts), read from the store's per-workspace counters at scrape
 * time. Per-workspace series would be high-cardinality: total bytes, the number of workspaces holding
 * data, and how many are at or above 80% of the quota.
 */
export function registerUsageMetrics(
  registry: Registry,
  totals: (thresholdBytes: number) => Promise<{ totalBytes: number; workspaces: number; atOrAbove: number }>,
  quotaBytes: number,
  warnRatio = 0.8,
): void {
  const r = [registry];
  const read = () => totals(quotaBytes > 0 ? Math.ceil(quotaBytes * warnRatio) : Number.MAX_SAFE_INTEGER);
  let pending: ReturnType<typeof read> | undefined;
  // One store query per scrape, shared by the three gauges.
  const once = () => (pending ??= read().finally(() => setTimeout(() => (pending = undefined), 0)));
  new Gauge({ name: 'cloister_storage_bytes', help: 'Bytes stored (envelopes + held + snapshots + log) over all workspaces', registers: r,
    async collect() { this.set((await once()).totalBytes); } });
  new Gauge({ name: 'cloister_storage_workspaces', help: 'Workspaces holding data', registers: r,
    async collect() { this.set((await once()).workspaces); } });
  new Gauge({ name: 'cloister_storage_quota_bytes', help: 'Per-workspace storage quota (0: none)', registers: r,
    collect() { this.set(quotaBytes); } });
  new Gauge({ name: 'cloister_storage_workspaces_near_quota', help: 'Workspaces using at least 80% of the storage quota', registers: r,
    async collect() { this.set(quotaBytes > 0 ? (await once()).atOrAbove : 0); } });
}
