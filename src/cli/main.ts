// `cloister`: the command-line client. Builds the commander program from one register() per command
// group (src/cli/commands/<group>.ts) and runs it. Every error is one line on stderr with a non-zero
// exit; set CLOISTER_DEBUG=1 to see stack traces of unexpected ones. Registering a group loads only
// commander and its option text: each command imports what it needs inside its action, so
// `cloister --help` and a command start without loading every other command's modules; and a command
// registers only its own group (groupsFor), so it loads no other group's option text either.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { addGlobalOptions, EXIT, oneLine } from './context.ts';
import { packageRoot } from './packageRoot.ts';

type Register = (program: Command) => void;

/** One line per command group, in help order: its top-level command names and its module. */
const GROUPS: [names: string[], load: () => Promise<{ register: Register }>][] = [
  [['init', 'unlock', 'passwd', 'recover'], () => import('./commands/vault.ts')],
  [['agent', 'lock'], () => import('./commands/agent.ts')],
  [['bench'], () => import('./commands/bench.ts')],
  [['record'], () => import('./commands/record.ts')],
  [['history'], () => import('./commands/history.ts')],
  [['workspace'], () => import('./commands/workspace.ts')],
  [['device'], () => import('./commands/device.ts')],
  [['relay'], () => import('./commands/relay.ts')],
  [['sync'], () => import('./commands/sync.ts')],
  [['status'], () => import('./commands/status.ts')],
  [['quarantine'], () => import('./commands/quarantine.ts')],
  [['sim'], () => import('./commands/sim.ts')],
];

/** Global options that take a value as the next argument (see addGlobalOptions). */
const VALUED = new Set(['--home', '--kdf-memory-kib', '--kdf-iterations']);

/** The command word in argv (the first argument that is no global option nor its value), if any. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
    if (VALUED.has(a)) i++;
  }
  return undefined;
}

/**
 * The groups to register: only the one the command names (so `record list` loads no other command's
 * modules), or every group for help, a bare `cloister` and a word no group has (commander then says so).
 */
async function groupsFor(argv: readonly string[]): Promise<Register[]> {
  const word = commandWord(argv);
  const named = GROUPS.filter(([names]) => word !== undefined && names.includes(word));
  return Promise.all((named.length === 1 ? named : GROUPS).map(async ([, load]) => (await load()).register));
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(groups: readonly Register[]): Command {
  const program = new Command('cloister')
    .description('Cloister: offline-first, end-to-end-encrypted collaborative records')
    .version(packageVersion())
    // Subcommands inherit these settings, so configure before registering any.
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      // An id can start with '-' (base64url), which reads as an option: say how to pass it.
      outputError: (str, write) => {
        const msg = oneLine(str.replace(/^error: /, ''));
        const dashed = /^unknown option '(-[^-][^']*)'/.exec(msg);
        write(`cloister: ${msg}${dashed ? ` (if ${dashed[1]} is an id, put it after --, e.g. cloister workspace remove -- ${dashed[1]})` : ''}\n`);
      },
    });
  addGlobalOptions(program);
  for (const register of groups) register(program);
  return program;
}

function reportUnexpected(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`cloister: unexpected error: ${oneLine(err.message)}${process.env.CLOISTER_DEBUG === '1' ? '' : ' (set CLOISTER_DEBUG=1 for details)'}\n`);
  if (process.env.CLOISTER_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(EXIT.internal);
}

/**
 * CLOISTER_HANG_REPORT_MS=N: if the command is still running after N ms, say on stderr what keeps the
 * process alive (its pending libuv handles and requests), once. For diagnosing a command that does not
 * exit; the test harness sets it so a hung child explains itself. The timer never keeps the process
 * alive, and it can't fire while the event loop is blocked (then nothing is printed, which says that).
 */
function reportIfHung(): void {
  const ms = Number(process.env.CLOISTER_HANG_REPORT_MS);
  if (!(ms > 0)) return;
  setTimeout(() => {
    const report = process.report?.getReport() as { libuv?: { type: string; is_active?: boolean; is_referenced?: boolean; details?: string }[] } | undefined;
    const alive = (report?.libuv ?? []).filter((h) => h.type !== 'loop' && h.is_active && h.is_referenced !== false).map((h) => `${h.type}${h.details ? ` (${h.details})` : ''}`);
    process.stderr.write(`cloister: still running after ${ms} ms (${process.argv.slice(2, 4).join(' ')}); alive: ${alive.join(', ') || 'nothing'}; resources: ${process.getActiveResourcesInfo().join(', ')}\n`);
  }, ms).unref();
}

process.on('unhandledRejection', reportUnexpected);
reportIfHung();
try {
  await buildProgram(await groupsFor(process.argv.slice(2))).parseAsync(process.argv);
} catch (e) {
  reportUnexpected(e);
}
