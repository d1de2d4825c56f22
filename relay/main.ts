// Run a relay as a long-lived process (used by `cloister relay` and `npm start`): open the store,
// start serving, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight
// writes, close the store), then exit.
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import type { RelayLimits } from './context.ts';
import type { AdmissionMode } from './admission.ts';
import { clusterFor } from './cluster/pgBus.ts';
import { openStore } from './openStore.ts';
import { startRelay, type RunningRelay } from './server.ts';

export interface RunRelayOptions {
  port: number;
  host: string;
  /** sqlite:PATH or postgres://... */
  store: string;
  webRoot?: string;
  limits?: Partial<RelayLimits>;
  logLevel?: string;
  /** Who may create workspaces (relay/admission.ts). Default 'open'. */
  admission?: AdmissionMode;
}

/** Start the relay or throw an Error with a one-line message. Installs signal handlers. */
export async function runRelay(opts: RunRelayOptions): Promise<RunningRelay> {
  const store = await openStore(opts.store);
  if (!store.ok) throw new Error(store.detail ?? store.reason);
  const cluster = clusterFor(opts.store); // PostgreSQL: several instances may share the database
  const logger = pino({ level: opts.logLevel ?? process.env.CLOISTER_LOG_LEVEL ?? 'info', base: { svc: 'cloister-relay' } });
  const relay = await startRelay({
    store: store.value,
    port: opts.port,
    host: opts.host,
    logger,
    processMetrics: true,
    ...(opts.admission ? { admission: opts.admission } : {}),
    ...(cluster ? { cluster } : {}),
    ...(opts.webRoot && existsSync(opts.webRoot) ? { webRoot: opts.webRoot } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  }).catch(async (e: unknown) => {
    await cluster?.close();
    await store.value.close();
    const code = (e as { code?: string }).code;
    throw new Error(code === 'EADDRINUSE' ? `port ${opts.port} on ${opts.host} is already in use` : e instanceof Error ? e.message : String(e));
  });
  const stop = (signal: string) => {
    logger.info({ signal }, 'signal received');
    const exit = (code: number) => logger.flush(() => process.exit(code));
    relay.close().then(
      () => exit(0),
      (e: unknown) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return relay;
}
