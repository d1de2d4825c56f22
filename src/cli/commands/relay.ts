// `cloister relay`: run a relay server (DESIGN → Interfaces: `cloister relay --port N --store sqlite:PATH|postgres://...`),
// and its operator commands: `relay migrate`, `relay token create`, `relay allow` (docs/RELAY.md). These
// take the relay's own --store (commander hands options to the parent command wherever they appear).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, fail, printJson } from '../context.ts';
import type { RelayStore } from '../../../relay/store/RelayStore.ts';

const DEFAULT_STORE = 'sqlite:./data/relay.sqlite';

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`, EXIT.usage);
  return n;
};

/** A device id (22 base64url characters), or a device's signing public key (43), turned into its device id. */
async function deviceIdArg(v: string): Promise<string> {
  if (/^[A-Za-z0-9_-]{22}$/.test(v)) return v;
  if (/^[A-Za-z0-9_-]{43}$/.test(v)) {
    const { fromBase64url } = await import('../../crypto/bytes.ts');
    const { deviceIdOf } = await import('../../crypto/ids.ts');
    const pub = fromBase64url(v);
    if (pub && pub.length === 32) return deviceIdOf(pub as Parameters<typeof deviceIdOf>[0]);
  }
  return fail(`"${v}" is not a device id (22 characters, shown by "cloister device list") or a device public key`, EXIT.usage);
}

/** Open the store (which runs pending migrations), run `fn`, close it. */
async function withStore<T>(spec: string, fn: (s: RelayStore) => Promise<T>): Promise<T> {
  const { openStore } = await import('../../../relay/openStore.ts');
  const opened = await openStore(spec);
  if (!opened.ok) fail(`relay: ${opened.detail ?? opened.reason}`);
  try {
    return await fn(opened.value);
  } finally {
    await opened.value.close();
  }
}

interface RunOptions {
  port: number; host: string; store: string; webRoot?: string; maxFrameBytes?: number; pushBurst?: number; pushPerSecond?: number;
  logLevel?: string; admission: string; quotaBytes?: number; allowlist?: string; limits?: string; snapshotRetention?: string;
}

/** `--limits FILE`: a JSON object of RelayLimits fields (docs/RELAY.md → Limits); anything else is refused in one line. */
async function limitsFile(path: string): Promise<Record<string, number>> {
  const { DEFAULT_LIMITS } = await import('../../../relay/context.ts');
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail(`relay: cannot read --limits ${path}: ${e instanceof Error ? e.message : String(e)}`, EXIT.usage);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`relay: --limits ${path} must hold a JSON object of limits`, EXIT.usage);
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, k)) fail(`relay: --limits ${path}: unknown limit "${k}" (see docs/RELAY.md → Limits)`, EXIT.usage);
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) fail(`relay: --limits ${path}: "${k}" must be a non-negative number`, EXIT.usage);
    out[k] = n as number;
  }
  return out;
}

export function register(program: Command): void {
  const relay = program
    .command('relay')
    .description('run a Cloister relay (stores ciphertext only); stops gracefully on SIGTERM')
    .option('--port <n>', 'TCP port to listen on', int('port'), 8787)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--store <spec>', 'storage: sqlite:PATH or postgres://...', DEFAULT_STORE)
    .option('--web-root <dir>', 'serve this web build directory (e.g. dist)')
    .option('--max-frame-bytes <n>', 'largest WebSocket frame accepted (bigger ones close with 1009)', int('max-frame-bytes'))
    .option('--push-burst <n>', 'pushes a device may make at once', int('push-burst'))
    .option('--push-per-second <n>', 'sustained pushes per second per device', int('push-per-second'))
    .option('--admission <mode>', 'who may create workspaces: open, token (signup tokens) or keys (allowlisted devices)', 'open')
    .option('--quota-bytes <n>', 'per-workspace storage quota in bytes (envelopes + held + log); 0: none (default 1 GiB)', int('quota-bytes'))
    .option('--allowlist <file>', 'with --admission keys: also allow the device ids in this file (one a line, # comments)')
    .option('--snapshot-retention <duration>', 'prune the envelopes a document snapshot covers this long after it arrived: 30d, 12h, 2w; "off" or 0: never (default 30d)')
    .option('--limits <file>', 'JSON file of relay limits, e.g. {"idleTimeoutMs": 600000} (docs/RELAY.md → Limits); flags above win')
    .option('--log-level <level>', 'pino log level (info, debug, warn, ...)')
    .action(async (o: RunOptions) => {
      const { ADMISSION_MODES } = await import('../../../relay/admission.ts');
      const admission = ADMISSION_MODES.find((m) => m === o.admission);
      if (!admission) fail(`--admission must be one of ${ADMISSION_MODES.join(', ')}, got ${o.admission}`, EXIT.usage);
      if (o.allowlist !== undefined) {
        let text: string;
        try {
          text = readFileSync(o.allowlist, 'utf8');
        } catch (e) {
          return fail(`relay: cannot read --allowlist ${o.allowlist}: ${e instanceof Error ? e.message : String(e)}`);
        }
        const ids: string[] = [];
        for (const line of text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)) ids.push(await deviceIdArg(line));
        await withStore(o.store, async (s) => {
          for (const id of ids) await s.allowDevice(id, Date.now());
        });
      }
      let snapshotRetentionMs: number | undefined;
      if (o.snapshotRetention !== undefined) {
        const { parseDuration } = await import('../workspaceProfile.ts');
        snapshotRetentionMs = ['off', '0'].includes(o.snapshotRetention.trim()) ? 0 : parseDuration(o.snapshotRetention);
        if (snapshotRetentionMs === undefined) fail(`--snapshot-retention must be a duration like 30d or 12h, or "off", got ${o.snapshotRetention}`, EXIT.usage);
      }
      const { runRelay } = await import('../../../relay/main.ts');
      const limits = {
        ...(o.limits !== undefined ? await limitsFile(o.limits) : {}),
        ...(o.maxFrameBytes !== undefined ? { maxFrameBytes: o.maxFrameBytes } : {}),
        ...(o.pushBurst !== undefined ? { pushBurst: o.pushBurst } : {}),
        ...(o.pushPerSecond !== undefined ? { pushPerSecond: o.pushPerSecond } : {}),
        ...(o.quotaBytes !== undefined ? { quotaBytes: o.quotaBytes } : {}),
        ...(snapshotRetentionMs !== undefined ? { snapshotRetentionMs } : {}),
      };
      try {
        await runRelay({
          port: o.port, host: o.host, store: o.store, limits, admission,
          ...(o.webRoot ? { webRoot: o.webRoot } : {}), ...(o.logLevel ? { logLevel: o.logLevel } : {}),
        });
      } catch (e) {
        fail(`relay: ${e instanceof Error ? e.message : String(e)}`);
      }
    });

  relay
    .command('migrate')
    .description("bring the relay database's schema to this version's (numbered migrations), then exit")
    .option('--json', 'print {from, to} as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ store: string; json?: boolean }>();
      const m = await withStore(o.store, async (s) => ({ ...s.migration, version: await s.schemaVersion() }));
      if (o.json) printJson({ from: m.from, to: m.to });
      else process.stdout.write(m.from === m.to ? `schema at version ${m.to}: nothing to do\n` : `schema migrated from version ${m.from} to ${m.to}\n`);
    });

  relay
    .command('token')
    .description('signup tokens for --admission token')
    .command('create')
    .description('mint a signup token that allows creating workspaces; printed once (the relay keeps only its hash)')
    .option('--uses <n>', 'how many workspaces it may create', '1')
    .option('--expires <duration>', 'how long it stays valid: 30m, 24h, 7d, 2w, or "never"', '7d')
    .option('--json', 'print {token, uses, expiresAt} as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ store: string; uses: string; expires: string; json?: boolean }>();
      const uses = Number(o.uses);
      if (!Number.isInteger(uses) || uses < 1 || uses > 1_000_000) fail('--uses must be an integer from 1 to 1000000', EXIT.usage);
      const { parseDuration } = await import('../workspaceProfile.ts');
      const ttlMs = o.expires === 'never' ? undefined : parseDuration(o.expires);
      if (o.expires !== 'never' && ttlMs === undefined) fail(`--expires must be a duration like 24h or 7d, or "never", got ${o.expires}`, EXIT.usage);
      const { mintSignupToken } = await import('../../../relay/admission.ts');
      const t = await withStore(o.store, (s) => mintSignupToken(s, { uses, now: Date.now(), ...(ttlMs !== undefined ? { ttlMs } : {}) }));
      if (o.json) printJson({ token: t.token, uses: t.usesLeft, ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}) });
      else process.stdout.write(`${t.token}\n`);
    });

  relay
    .command('allow [device]')
    .description('for --admission keys: allow a device (its id or public key) to create workspaces; --list, --remove')
    .option('--remove', 'take the device off the allowlist')
    .option('--list', 'print the allowlist')
    .action(async (device: string | undefined, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ store: string; remove?: boolean; list?: boolean }>();
      if (o.list) {
        const ids = await withStore(o.store, (s) => s.listAllowedDevices());
        process.stdout.write(ids.map((i) => `${i}\n`).join(''));
        return;
      }
      if (!device) fail('name a device id (or use --list)', EXIT.usage);
      const id = await deviceIdArg(device);
      if (o.remove) {
        const removed = await withStore(o.store, (s) => s.disallowDevice(id));
        if (!removed) fail(`${id} was not on the allowlist`);
        process.stdout.write(`removed ${id}\n`);
      } else {
        await withStore(o.store, (s) => s.allowDevice(id, Date.now()));
        process.stdout.write(`allowed ${id}\n`);
      }
    });
}
