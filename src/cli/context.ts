// Shared plumbing for every `cloister` command: global options (--home, --password-stdin, --json),
// reading passwords (stdin lines or a no-echo TTY prompt), opening the vault, and failing with one
// line on stderr and a non-zero exit. Command groups live in commands/<group>.ts and use these.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_KDF, MIN_KDF, validateKdfParams, type KdfParams } from '../crypto/argon2.ts';
import { checkNewPassword, describePasswordRejection } from '../identity/vault/passwordPolicy.ts';
import { describeVaultFailure, type UnlockedVault, type VaultFailure } from '../identity/vault/types.ts';

/** The options every command sees, wherever on the command line they were given. */
export interface CommonOptions {
  /** The local profile directory, resolved to an absolute path. */
  home: string;
  passwordStdin: boolean;
  json: boolean;
  /** Argon2id parameters for new wraps and the upgrade target; undefined means DEFAULT_KDF. */
  kdf: KdfParams | undefined;
  /** Ask a running agent (`cloister agent`) first; false with --no-agent. */
  agent: boolean;
}

/** Exit codes: 1 for any failure a person can act on, 2 for bad usage, 70 for a bug (sysexits EX_SOFTWARE). */
export const EXIT = { failure: 1, usage: 2, internal: 70 } as const;

/** Print `cloister: <message>` as one line on stderr and exit non-zero. */
export function fail(message: string, code: number = EXIT.failure): never {
  process.stderr.write(`cloister: ${oneLine(message)}\n`);
  process.exit(code);
}

/** A note for a person (progress, warnings) on stderr, so stdout stays clean for scripts. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Global options live on the root program; commander accepts them before or after any subcommand. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option('--home <dir>', 'local profile directory (default: $CLOISTER_HOME, else ~/.cloister)')
    .option('--password-stdin', 'read password(s) from standard input, one per line, instead of prompting')
    .option('--json', 'print machine-readable JSON (commands that print data)')
    .option('--no-agent', 'do not ask a running agent (cloister agent); unlock with the password')
    .addOption(new Option('--kdf-memory-kib <n>', 'advanced: Argon2id memory in KiB for new password wraps (>= 19456)').hideHelp())
    .addOption(new Option('--kdf-iterations <n>', 'advanced: Argon2id iterations for new password wraps (>= 2)').hideHelp());
}

/** Read the common options for the command being run (merging the root's global options). */
export function optionsOf(cmd: Command): CommonOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const home = typeof o.home === 'string' && o.home !== '' ? o.home : process.env.CLOISTER_HOME || join(homedir(), '.cloister');
  return {
    home: resolve(home),
    passwordStdin: o.passwordStdin === true,
    json: o.json === true,
    kdf: kdfFrom(o.kdfMemoryKib as string | undefined, o.kdfIterations as string | undefined),
    agent: o.agent !== false,
  };
}

/**
 * Argon2id parameters from --kdf-memory-kib/--kdf-iterations (a missing one takes the default's
 * value), else $CLOISTER_KDF ("min", "default" or "<m_kib>:<t>"), else undefined (the default).
 * Never below OWASP's minimum. Tests use CLOISTER_KDF=min to stay fast; people should leave it alone.
 */
function kdfFrom(memory: string | undefined, iterations: string | undefined): KdfParams | undefined {
  let m = memory;
  let t = iterations;
  const env = process.env.CLOISTER_KDF;
  if (m === undefined && t === undefined && env) {
    if (env === 'min') return MIN_KDF;
    if (env === 'default') return undefined;
    [m, t] = env.split(':');
  }
  if (m === undefined && t === undefined) return undefined;
  const params = {
    alg: 'argon2id',
    m_kib: m === undefined ? DEFAULT_KDF.m_kib : Number(m),
    t: t === undefined ? DEFAULT_KDF.t : Number(t),
    p: 1,
  };
  const v = validateKdfParams(params);
  if (!v.ok) fail(`unsafe Argon2id parameters (${v.detail}); the minimum is m=${MIN_KDF.m_kib} KiB, t=${MIN_KDF.t}`, EXIT.usage);
  return v.value;
}

// --- reading secrets -----------------------------------------------------------------------

/** Lines from standard input, read lazily so a command can take one line, then another. */
class StdinLines {
  private buf = '';
  private ended = false;
  private started = false;
  private wake: (() => void) | undefined;

  private start(): void {
    if (this.started) return;
    this.started = true;
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      this.buf += chunk;
      this.wake?.();
    });
    process.stdin.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  async next(): Promise<string | undefined> {
    this.start();
    process.stdin.resume();
    try {
      for (;;) {
        const nl = this.buf.indexOf('\n');
        if (nl >= 0) {
          const line = this.buf.slice(0, nl);
          this.buf = this.buf.slice(nl + 1);
          return line.replace(/\r$/, '');
        }
        if (this.ended) {
          const rest = this.buf;
          this.buf = '';
          return rest === '' ? undefined : rest.replace(/\r$/, '');
        }
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
      }
    } finally {
      process.stdin.pause(); // let the process exit once nobody is reading
    }
  }
}

const stdinLines = new StdinLines();

/** One line from standard input, or a clear failure when there is none. `what` names it in the error. */
export async function readStdinLine(what: string): Promise<string> {
  const line = await stdinLines.next();
  if (line === undefined) fail(`expected ${what} on standard input, got end of input`, EXIT.usage);
  return line;
}

/** Prompt on the terminal without echoing what is typed. */
async function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((done) => {
      let chars: string[] = [];
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || (ch === '\u0004' && chars.length === 0)) {
            stdin.off('data', onData);
            return done(chars.join(''));
          }
          if (ch === '\u0003') {
            stdin.setRawMode(false);
            process.stderr.write('\n');
            fail('cancelled', 130);
          }
          if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
          else if (ch === '\u0015') chars = []; // Ctrl-U
          else if (ch >= ' ') chars.push(ch);
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * A password: the next stdin line with --password-stdin, else a no-echo prompt on the terminal.
 * Fails (one line) when neither is possible, rather than hanging on a pipe.
 */
export async function readPassword(opts: Pick<CommonOptions, 'passwordStdin'>, prompt = 'Password: '): Promise<string> {
  if (opts.passwordStdin) return readStdinLine('a password line');
  if (!process.stdin.isTTY) fail('no terminal to ask for the password on; pass --password-stdin to read it from standard input', EXIT.usage);
  return promptHidden(prompt);
}

/**
 * A new password, asked twice on a terminal (once from stdin). Refuses, in one line with the reason
 * code, one below the shared policy (src/identity/vault/passwordPolicy.ts); `context` are words the
 * person could be guessed by (e.g. the user id).
 */
export async function readNewPassword(opts: Pick<CommonOptions, 'passwordStdin'>, prompt = 'New password: ', context: readonly string[] = []): Promise<string> {
  const pw = await readPassword(opts, prompt);
  const verdict = await checkNewPassword(pw, context);
  if (!verdict.ok) {
    const hint = verdict.feedback.suggestions[0];
    fail(`${describePasswordRejection(verdict)} [${verdict.reason}]${hint ? `. ${hint}` : ''}`);
  }
  if (!opts.passwordStdin) {
    const again = await readPassword(opts, 'Repeat it: ');
    if (again !== pw) fail('the two passwords differ; nothing was changed', EXIT.usage);
  }
  return pw;
}

/** A visible prompt for non-secret input on a terminal (e.g. a recovery key being copied in). */
export async function promptLine(prompt: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

// --- the vault ----------------------------------------------------------------------------

/** The one line a person sees for a vault failure. "wrong password" says nothing more. */
export function vaultFailureMessage(f: { reason: VaultFailure; detail?: string }, home: string): string {
  if (f.reason === 'vault_missing') return `no vault in ${home} (run \`cloister init\` first)`;
  if (f.reason === 'wrong_password') return 'wrong password';
  return `${describeVaultFailure(f)} (${home}/vault)`;
}

/** Unlock the profile's vault with a password (stdin or prompt), or exit with one line. */
export async function openVault(opts: CommonOptions): Promise<UnlockedVault> {
  // Loaded here, not at startup, so `cloister --help` and commands that need no vault stay fast.
  const [{ vaultExists }, { unlockVault }] = await Promise.all([import('../identity/vault/store.ts'), import('../identity/vault/unlockVault.ts')]);
  if (!vaultExists(opts.home)) fail(vaultFailureMessage({ reason: 'vault_missing' }, opts.home));
  const password = await readPassword(opts);
  const r = await unlockVault(opts.home, password, {
    kdf: opts.kdf,
    onWait: (ms, failures) => note(`${failures} failed attempts: waiting ${Math.ceil(ms / 1000)} s before trying (advisory back-off)`),
    onUpgradeFailed: (e) => note(`warning: could not upgrade the vault's key-derivation parameters: ${oneLine(e.message)}`),
  });
  if (!r.ok) fail(vaultFailureMessage(r, opts.home));
  return r.value;
}
