// `cloister relay`: run a relay server (DESIGN → Interfaces: `cloister relay --port N --store sqlite:PATH|postgres://...`).
import type { Command } from 'commander';
import { EXIT, fail } from '../context.ts';

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`, EXIT.usage);
  return n;
};

export function register(program: Command): void {
  program
    .command('relay')
    .description('run a Cloister relay (stores ciphertext only); stops gracefully on SIGTERM')
    .option('--port <n>', 'TCP port to listen on', int('port'), 8787)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--store <spec>', 'storage: sqlite:PATH or postgres://...', 'sqlite:./data/relay.sqlite')
    .option('--web-root <dir>', 'serve this web build directory (e.g. dist)')
    .option('--max-frame-bytes <n>', 'largest WebSocket frame accepted (bigger ones close with 1009)', int('max-frame-bytes'))
    .option('--push-burst <n>', 'pushes a device may make at once', int('push-burst'))
    .option('--push-per-second <n>', 'sustained pushes per second per device', int('push-per-second'))
    .option('--log-level <level>', 'pino log level (info, debug, warn, ...)')
    .action(async (o: { port: number; host: string; store: string; webRoot?: string; maxFrameBytes?: number; pushBurst?: number; pushPerSecond?: number; logLevel?: string }) => {
      const { runRelay } = await import('../../../relay/main.ts');
      const limits = {
        ...(o.maxFrameBytes !== undefined ? { maxFrameBytes: o.maxFrameBytes } : {}),
        ...(o.pushBurst !== undefined ? { pushBurst: o.pushBurst } : {}),
        ...(o.pushPerSecond !== undefined ? { pushPerSecond: o.pushPerSecond } : {}),
      };
      try {
        await runRelay({
          port: o.port, host: o.host, store: o.store, limits,
          ...(o.webRoot ? { webRoot: o.webRoot } : {}), ...(o.logLevel ? { logLevel: o.logLevel } : {}),
        });
      } catch (e) {
        fail(`relay: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
}
