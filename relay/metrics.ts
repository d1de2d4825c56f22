// Prometheus metrics, one registry per relay instance (so tests can run several relays in one process).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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
    mailbox: new Counter({ name: 'cloister_mailbox_requests_total', help: 'Device-link mailbox requests, by op and result (stored, taken, too_large, …)', labelNames: ['op', 'result'], registers: r }),
  };
}
