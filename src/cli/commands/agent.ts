// `cloister agent` and `cloister lock` (docs/VAULT.md → The agent). The agent unlocks the profile
// once and keeps it in memory behind a Unix socket only this user can open; record and status
// commands then ask it instead of the password, until `cloister lock`, the idle timeout, or a signal.
// Like ssh-agent it detaches and prints shell lines naming its socket and pid (eval "$(cloister agent)");
// --foreground keeps it attached (ssh-agent -D). The agent's modules load inside the actions.
import type { Command } from 'commander';
import { EXIT, fail, note, optionsOf, printJson, readPassword, type CommonOptions } from '../context.ts';
import { PID_ENV, SOCK_ENV } from '../agent/socketPath.ts';

const DEFAULT_IDLE = '15m';

/** ssh-agent's time format: "90", "90s", "15m", "1h30m", "2d" (a bare number is seconds); "never" for no timeout. */
export function parseIdle(s: string): number | undefined {
  if (s === 'never') return Infinity;
  if (!/^(\d+[smhdw]?)+$/.test(s)) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
  let ms = 0;
  for (const [, n, u] of s.matchAll(/(\d+)([smhdw]?)/g)) ms += Number(n) * unit[(u || 's') as keyof typeof unit];
  // Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer one would fire at once.
  return Number.isSafeInteger(ms) && ms >= 1000 && ms <= 2 ** 31 - 1 ? ms : undefined;
}

/** Single-quoted for sh, so any path survives eval. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface AgentFlags {
  idle: string;
  foreground?: boolean;
  workspace?: string;
  socket?: string;
  detachedChild?: boolean;
}

function announce(opts: CommonOptions, ready: { socket: string; pid: number; idleMs: number | null }): void {
  if (opts.json) return printJson(ready);
  process.stdout.write(
    `${SOCK_ENV}=${shQuote(ready.socket)}; export ${SOCK_ENV};\n${PID_ENV}=${ready.pid}; export ${PID_ENV};\necho Agent pid ${ready.pid};\n`,
  );
}

/** Unlock, serve until locked, then exit. Runs in the foreground, or as the detached child. */
async function runAgent(opts: CommonOptions, o: AgentFlags, idleMs: number, socketPath: string): Promise<never> {
  const [{ prepareSocket, serveAgent }, { ProfileView }, { describeOpenSessionFailure }, { openVault }] = await Promise.all([
    import('../agent/serveAgent.ts'),
    import('../agent/ProfileView.ts'),
    import('../../docs/openSession.ts'),
    import('../context.ts'),
  ]);
  const prepared = await prepareSocket(socketPath);
  if (!prepared.ok) fail(prepared.message);
  const vault = await openVault(opts);
  const view = await ProfileView.open(opts.home, vault, o.workspace);
  if (!view.ok) fail(describeOpenSessionFailure(view));
  let quiet = false;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`cloister agent: ${line}\n`);
  };
  let running;
  try {
    running = await serveAgent({ home: opts.home, vault, view: view.value, socketPath, idleMs, log });
  } catch (e) {
    await view.value.close().catch(() => undefined);
    fail(`cannot listen on ${socketPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void running.lock('signal'));
  const ready = { socket: socketPath, pid: process.pid, idleMs: Number.isFinite(idleMs) ? idleMs : null };
  if (o.detachedChild) {
    // The parent reads this one line, prints the shell lines and exits; nobody reads our output after it.
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    quiet = true;
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
  } else announce(opts, ready);
  const reason = await running.locked;
  log(reason === 'idle' ? `locked after ${Math.round(idleMs / 1000)} s without a request` : reason === 'lock' ? 'locked (cloister lock)' : 'locked (signal)');
  process.exit(0);
}

/** Ask for the password here, start the agent as a detached child, and print its shell lines once it serves. */
async function startDetached(opts: CommonOptions, o: AgentFlags, socketPath: string): Promise<void> {
  const [{ spawn }, { prepareSocket }] = await Promise.all([import('node:child_process'), import('../agent/serveAgent.ts')]);
  const prepared = await prepareSocket(socketPath);
  if (!prepared.ok) fail(prepared.message);
  const password = await readPassword(opts);
  const args = [
    ...process.execArgv, process.argv[1]!, 'agent', '--foreground', '--detached-child', '--password-stdin',
    '--home', opts.home, '--idle', o.idle, '--socket', socketPath, ...(o.workspace !== undefined ? ['--workspace', o.workspace] : []),
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(`${password}\n`);
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const ready = await new Promise<{ socket: string; pid: number; idleMs: number | null } | { code: number | null }>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        try {
          resolve(JSON.parse(out.slice(0, nl)) as { socket: string; pid: number; idleMs: number | null });
        } catch {
          resolve({ code: EXIT.internal });
        }
      }
    });
    child.on('exit', (code) => resolve({ code }));
  });
  if ('code' in ready) {
    const line = err.split('\n').find(l => l.trim() !== '');
    if (line) process.stderr.write(`${line}\n`);
    else note(`cloister: the agent exited (${ready.code}) before it served`);
    process.exit(ready.code || EXIT.failure);
  }
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  announce(opts, ready);
}

export function register(program: Command): void {
  program
    .command('agent')
    .description('unlock the profile once and keep it in memory for record and status commands, behind a socket only you can open, until `cloister lock` or the idle timeout')
    .option('--idle <time>', 'lock after this long without a command: 90s, 15m, 1h, or never', DEFAULT_IDLE)
    .option('--foreground', 'stay in the foreground instead of detaching (like ssh-agent -D)')
    .option('--workspace <name>', 'the workspace it holds (default: the only one in the profile)')
    .option('--socket <path>', 'listen here instead of <home>/agent/agent.sock')
    .option('--detached-child', 'internal: run as the detached agent process', false)
    .addHelpText('after', '\nIt prints shell lines, like ssh-agent: eval "$(cloister agent)". Commands find the agent of their --home without them.\nRecord and status commands ask the agent; others still ask for the password. --no-agent skips it.')
    .action(async (o: AgentFlags, cmd: Command) => {
      const opts = optionsOf(cmd);
      const idleMs = parseIdle(o.idle);
      if (idleMs === undefined) fail(`--idle must be a time such as 90s, 15m or 1h (from 1 s to 24 days), or never; got ${JSON.stringify(o.idle)}`, EXIT.usage);
      const { defaultSocketPath } = await import('../agent/socketPath.ts');
      const { vaultExists } = await import('../../identity/vault/store.ts');
      if (!vaultExists(opts.home)) fail(`no vault in ${opts.home} (run \`cloister init\` first)`);
      const socketPath = o.socket ?? defaultSocketPath(opts.home);
      if (o.foreground || o.detachedChild) await runAgent(opts, o, idleMs, socketPath);
      else await startDetached(opts, o, socketPath);
    });
  const child = program.commands.find(c => c.name() === 'agent')!;
  child.options.find(opt => opt.long === '--detached-child')!.hideHelp();

  program
    .command('lock')
    .description('lock the running agent: it forgets the keys and exits (commands ask for the password again)')
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf(cmd);
      const { askAgent } = await import('../agent/client.ts');
      const r = await askAgent('lock', undefined, { home: opts.home, warn: note });
      if (r && !r.ok) fail(r.message);
      if (opts.json) printJson({ locked: r !== undefined });
      else note(r ? 'agent locked' : `no agent is running for ${opts.home}`);
    });
}
