// The relay: an HTTP server (health, metrics, the web build) with a WebSocket endpoint for clients.
// startRelay() is used by `cloister relay`, `npm start` and tests (port 0, injected clock).
// close() stops accepting, waits for in-flight requests (every acknowledged envelope is already
// committed), closes sockets and the store.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { generateSigningKey, publicKeyOf } from '../src/crypto/ed25519.ts';
import { asKey, type SigningSecretKey } from '../src/crypto/keys.ts';
import { relayIdOf } from '../src/protocol/challenge.ts';
import { Connection } from './connection.ts';
import { inProcessSocketClass, type InProcessSocketCtor, type RelaySideSocket } from './inProcess.ts';
import { DEFAULT_LIMITS, type RelayContext, type RelayLimits } from './context.ts';
import { KeyedLock } from './keyedLock.ts';
import type { RelayCluster } from './cluster/pgBus.ts';
import type { MembershipModel } from './membership.ts';
import { createMetrics, registerUsageMetrics } from './metrics.ts';
import { QUOTA_WARN_RATIO, type AdmissionMode } from './admission.ts';
import { NonceRegistry } from './nonces.ts';
import { Budgets, TokenBuckets } from './rateLimit.ts'; // Budgets: abuse budgets (issue 11)
import { SnapshotPruner } from './snapshotPruning.ts';
import { serveStatic, WEB_HEADERS } from './staticFiles.ts';
import type { RelayStore } from './store/RelayStore.ts';
import { WorkspaceCache } from './workspaceCache.ts';
import type { RelayDefence } from './defences.ts';

export interface StartRelayOptions {
  store: RelayStore;
  /** 0 picks a free port. Default 8787. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The relay's clock, ms. Default Date.now. */
  now?: () => number;
  limits?: Partial<RelayLimits>;
  /** Directory of the web build to serve (e.g. dist/); nothing is served if absent. */
  webRoot?: string;
  /** Membership rules; default: the identity library (src/identity/workspace). */
  membership?: MembershipModel;
  /** pino logger; default JSON to stdout at 'info'. */
  logger?: Logger;
  /** Also export Node process metrics (off in tests). Default false. */
  processMetrics?: boolean;
  /** Who may create workspaces (relay/admission.ts). Default 'open'. */
  admission?: AdmissionMode;
  /** Coordination with other instances on the same database (PostgreSQL; see relay/cluster/). Closed with the relay. */
  cluster?: RelayCluster;
  /** Sim only (relay/defences.ts, docs/SCENARIOS.md): defences switched off for this run. Default: none. */
  defencesOff?: ReadonlySet<RelayDefence>;
  /** Sim only (RelayContext.removalJudgement, docs/SIM.md → Semantics). Default 'push'. */
  removalJudgement?: 'push' | 'causal';
}

export interface RunningRelay {
  /** ws://host:port/ — the client endpoint. */
  url: string;
  /** http://host:port */
  httpUrl: string;
  port: number;
  relayId: string;
  relayPub: Uint8Array;
  /**
   * A WebSocket constructor (for RelayClient's `WebSocket` option) whose connections reach this relay
   * in-process, without the network: `cloister sim --memory`. The same protocol, checks and limits.
   */
  inProcessSocket: InProcessSocketCtor;
  /** Graceful shutdown: stop accepting, finish in-flight requests, close connections and the store. */
  close(): Promise<void>;
}

export { relayIdOf };

/**
 * The client's address for per-address limits. Behind `hops` trusted proxies (a load balancer that
 * appends to X-Forwarded-For), it is the entry the outermost trusted proxy saw; entries further left
 * are the client's own claims and are ignored. Without trusted proxies: the socket's peer.
 */
export function clientAddress(req: IncomingMessage, hops: number): string | undefined {
  const peer = req.socket.remoteAddress;
  if (hops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
  return list[list.length - hops] ?? peer;
}

/** WebSocket handshakes completed per turn of the event loop. */
const UPGRADES_PER_TURN = 8;

export async function startRelay(opts: StartRelayOptions): Promise<RunningRelay> {
  const now = opts.now ?? Date.now;
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.logger ?? pino({ base: { svc: 'cloister-relay' } });
  const membership = opts.membership ?? (await import('./identityMembership.ts')).identityMembership();
  // cluster: the store notifies other instances of its commits (relay/cluster/pgBus.ts)
  const store = opts.cluster ? opts.cluster.wrapStore(opts.store) : opts.store;
  const relayKey = asKey<SigningSecretKey>(await store.getOrCreateRelayKey(() => generateSigningKey().secretKey));
  const relayPub = publicKeyOf(relayKey);
  const relayId = relayIdOf(relayPub);
  const metrics = createMetrics(opts.processMetrics ?? false);

  const ctx: RelayContext = {
    store, model: membership, now, limits, log, metrics, relayId, relayPub, relayKey,
    workspaces: new WorkspaceCache(store, membership, now, relayKey, (w, reason) => log.error({ workspace: w, reason }, 'stored log does not replay')),
    nonces: new NonceRegistry(now),
    buckets: new TokenBuckets({ burst: limits.pushBurst, perSecond: limits.pushPerSecond }, now),
    mailboxBuckets: new TokenBuckets({ burst: limits.mailboxBurst, perSecond: limits.mailboxPerSecond }, now),
    snapshotBuckets: new TokenBuckets({ burst: limits.snapshotBurst, perSecond: limits.snapshotPerSecond }, now),
    budgets: new Budgets(limits), // abuse budgets (issue 11)
    seqLock: new KeyedLock(),
    subscribers: new Map(),
    admission: opts.admission ?? 'open',
    ...(opts.defencesOff?.size ? { defencesOff: opts.defencesOff } : {}),
    ...(opts.removalJudgement === 'causal' ? { removalJudgement: 'causal' as const } : {}),
  };
  // ---- admission, quotas, pruning (relay/admission.ts) ----
  registerUsageMetrics(metrics.registry, (t) => store.usageTotals(t), limits.quotaBytes, QUOTA_WARN_RATIO);
  const snapshotPruner = new SnapshotPruner(ctx); // envelopes covered by snapshots past the retention
  const prune = async () => {
    const t = now();
    const leases = await store.deleteExpiredLeases(t - limits.leaseRetentionMs);
    const mailbox = await store.deleteExpiredMailboxItems(t);
    if (leases || mailbox) log.info({ leases, mailbox }, 'pruned expired leases and mailbox items');
    await snapshotPruner.round();
  };
  const pruneTimer = setInterval(() => prune().catch((e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'pruning failed')), limits.pruneIntervalMs);
  pruneTimer.unref();
  // ---- end admission, quotas, pruning ----
  await opts.cluster?.attach(ctx); // cluster: deliver other instances' commits to our subscribers and caches

  let shuttingDown = false;
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
  };

  const http: Server = createServer((req, res) => {
    // Every answer, not only the web build's: no framing, no sniffing, no referrer (docs/THREATS.md T28a).
    for (const [k, v] of Object.entries(WEB_HEADERS)) res.setHeader(k, v);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(shuttingDown ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: shuttingDown ? 'shutting_down' : 'ok', relayId }));
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (opts.webRoot && serveStatic(opts.webRoot, req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });

  // Upgrades are taken a few per turn of the event loop, so a burst of handshakes (hundreds of
  // sockets at once) can't hold /healthz and established connections behind it.
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes });
  const upgrades: { req: IncomingMessage; socket: Duplex; head: Buffer }[] = [];
  let draining = false;
  const drainUpgrades = () => {
    for (let n = 0; n < UPGRADES_PER_TURN && upgrades.length > 0; n++) {
      const u = upgrades.shift()!;
      if (u.socket.destroyed) continue;
      if (shuttingDown) {
        u.socket.destroy();
        continue;
      }
      wss.handleUpgrade(u.req, u.socket, u.head, (ws) => wss.emit('connection', ws, u.req));
    }
    if (upgrades.length > 0) setImmediate(drainUpgrades);
    else draining = false;
  };
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    upgrades.push({ req, socket, head });
    if (!draining) {
      draining = true;
      setImmediate(drainUpgrades);
    }
  });
  const connections = new Set<Connection>();
  const inProcess = new Set<RelaySideSocket>();
  /** One client connection, over the network (ws) or in-process (sim --memory: no socket, its own address). */
  const accept = (ws: WebSocket, socket?: Socket, address?: string) => {
    if (shuttingDown) return ws.close(1001, 'shutting down');
    metrics.connections.inc();
    metrics.connectionsTotal.inc();
    const conn = new Connection(ctx, ws, track, () => shuttingDown, socket, address); // socket: per-address cap, frame deadline (issue 11)
    connections.add(conn);
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      conn.receive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), isBinary);
    });
    ws.on('error', (e) => log.debug({ err: e.message }, 'socket error')); // e.g. 1009: ws closes the socket itself
    ws.on('close', (code) => {
      metrics.connections.dec();
      connections.delete(conn);
      conn.closed();
      log.debug({ code }, 'connection closed');
    });
  };
  wss.on('connection', (ws, req) => accept(ws, req.socket, clientAddress(req, limits.trustedProxies)));
  let inProcessCount = 0;
  const inProcessSocket = inProcessSocketClass((side) => {
    inProcess.add(side);
    side.once('close', () => inProcess.delete(side));
    accept(side as unknown as WebSocket, undefined, `in-process-${++inProcessCount}`);
  });
  wss.on('error', (e) => log.error({ err: e.message }, 'websocket server error'));

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 8787, opts.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  log.info({ host: addr.address, port: addr.port, relayId, maxFrameBytes: limits.maxFrameBytes, snapshotRetentionMs: limits.snapshotRetentionMs }, 'relay listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      clearInterval(pruneTimer); // admission, quotas, pruning
      const pruning = snapshotPruner.stop(); // awaited before the store closes
      log.info('relay shutting down');
      http.close(); // stop accepting new connections
      while (inflight.size) await Promise.allSettled([...inflight]);
      for (const c of [...wss.clients, ...inProcess]) c.close(1001, 'relay shutting down');
      await new Promise<void>((r) => setTimeout(r, 20)); // not unref: it must keep the loop alive until the store is closed
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      http.closeAllConnections?.();
      await opts.cluster?.close(); // cluster
      await pruning;
      await store.close();
      log.info('relay stopped');
    })());

  return { url: `ws://${hostForUrl}:${addr.port}/`, httpUrl: `http://${hostForUrl}:${addr.port}`, port: addr.port, relayId, relayPub, inProcessSocket, close };
}
