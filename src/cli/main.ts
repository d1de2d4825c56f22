// `cloister`: the command-line client. Builds the commander program from one register() per command
// group (src/cli/commands/<group>.ts) and runs it. Every error is one line on stderr with a non-zero
// exit; set CLOISTER_DEBUG=1 to see stack traces of unexpected ones. Registering a group loads only
// commander and its option text: each command imports what it needs inside its action, so
// `cloister --help` and a command start without loading every other command's modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { addGlobalOptions, EXIT, oneLine } from './context.ts';
import { packageRoot } from './packageRoot.ts';
import { register as registerBench } from './commands/bench.ts';
import { register as registerVault } from './commands/vault.ts';
import { register as registerAgent } from './commands/agent.ts';
import { register as registerRecord } from './commands/record.ts';
import { register as registerHistory } from './commands/history.ts';
import { register as registerWorkspace } from './commands/workspace.ts';
import { register as registerDevice } from './commands/device.ts';
import { register as registerRelay } from './commands/relay.ts';
import { register as registerSync } from './commands/sync.ts';
import { register as registerStatus } from './commands/status.ts';
import { register as registerQuarantine } from './commands/quarantine.ts';
import { register as registerSim } from './commands/sim.ts';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
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
  // One line per command group; keep them in this order.
  registerVault(program);
  registerAgent(program);
  registerBench(program);
  registerRecord(program);
  registerHistory(program);
  registerWorkspace(program);
  registerDevice(program);
  registerRelay(program);
  registerSync(program);
  registerStatus(program);
  registerQuarantine(program);
  registerSim(program);
  return program;
}

function reportUnexpected(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`cloister: unexpected error: ${oneLine(err.message)}${process.env.CLOISTER_DEBUG === '1' ? '' : ' (set CLOISTER_DEBUG=1 for details)'}\n`);
  if (process.env.CLOISTER_DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(EXIT.internal);
}

process.on('unhandledRejection', reportUnexpected);
try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  reportUnexpected(e);
}
