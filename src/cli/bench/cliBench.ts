// CLI start-up (issue 13, "a fast CLI"): what one `cloister` command costs a person, measured by
// spawning bin/cloister.js as they do, side by side in one run with `node -e 0` (Node's own start-up)
// and with Argon2id's own time at the default parameters, which every command that unlocks pays:
// so the note can read "record list = Argon2id + X ms". `cli_record_list_agent_ms` is the same list
// while `cloister agent` holds the profile (no password, no loading), interleaved with the runs
// without it (--no-agent), so the agent also follows their writes. Profiles are made with the
// library, not the CLI. Opt-in (`cloister bench --only cli`): setting up 1,000 records and the runs take ~30 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KDF, deriveKek } from '../../crypto/argon2.ts';
import { openRecordSession } from '../../docs/openSession.ts';
import { deviceKeysOfVault } from '../../docs/sync/nodeSyncSession.ts';
import { createVault } from '../../identity/vault/createVault.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import { packageRoot } from '../packageRoot.ts';
import { median, round } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const RECORDS = 1_000;
const SMALL = 3;
const RUNS = 5;
const PASSWORD = 'cli bench password';

/** A profile at the default KDF (what people have) with one workspace and `n` records. */
async function makeProfile(home: string, n: number): Promise<void> {
  const { vault } = await createVault(home, PASSWORD, { kdf: DEFAULT_KDF });
  const ws = createWorkspace(deviceKeysOfVault(vault), 'bench', { now: Date.now() });
  saveWorkspace(home, vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: { relay: 'ws://127.0.0.1:1/' } });
  const s = await openRecordSession({ home, vault, flushWindowMs: 5 });
  if (!s.ok) throw new Error(`open: ${s.reason}`);
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) =>
      s.value.records.create({ title: `Record ${String(i + k).padStart(4, '0')}`, fields: { room: String((i + k) % 40) }, tags: [] })));
  }
  await s.value.close();
}

/** Wall time (ms) of one child process, as a shell would see it; fails on a non-zero exit. */
function timeSpawn(args: string[], input = '', expectLines?: number): number {
  const env = { ...process.env };
  delete env.CLOISTER_KDF;
  delete env.CLOISTER_HOME;
  delete env.CLOISTER_DEV;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { input, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.slice(1).join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
  if (expectLines !== undefined && r.stdout.trim().split('\n').length !== expectLines) throw new Error(`${args.slice(1).join(' ')} printed ${r.stdout.trim().split('\n').length} lines, not ${expectLines}`);
  return ms;
}

/** `cloister agent --foreground` on `home`, once it serves (its shell lines are printed). */
async function startAgent(bin: string, home: string): Promise<ChildProcess> {
  const env = { ...process.env };
  delete env.CLOISTER_KDF;
  delete env.CLOISTER_AGENT_SOCK;
  const child = spawn(process.execPath, [bin, 'agent', '--foreground', '--idle', 'never', '--home', home, '--password-stdin'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(`${PASSWORD}\n`);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('echo Agent pid')) resolve();
    });
    child.on('exit', code => reject(new Error(`cloister agent exited ${code}: ${err.trim().split('\n')[0]}`)));
  });
  return child;
}

export async function cliBench(log: (m: string) => void = () => undefined): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-clibench-'));
  const bin = join(packageRoot(), 'bin', 'cloister.js');
  let agent: ChildProcess | undefined;
  try {
    const big = join(dir, 'big');
    const small = join(dir, 'small');
    log(`  creating profiles with ${RECORDS} and ${SMALL} records (default Argon2id parameters)`);
    await makeProfile(big, RECORDS);
    await makeProfile(small, SMALL);

    log(`  starting cloister agent on the ${RECORDS}-record profile`);
    agent = await startAgent(bin, big);
    log(`  node -e 0, --help, unlock, record list (${SMALL} and ${RECORDS} records; with and without the agent), Argon2id alone; x${RUNS}, interleaved`);
    const pw = `${PASSWORD}\n`;
    const t = { node: [] as number[], help: [] as number[], unlock: [] as number[], small: [] as number[], big: [] as number[], agent: [] as number[], kdf: [] as number[] };
    const salt = new Uint8Array(16);
    for (let r = 0; r < RUNS; r++) {
      t.node.push(timeSpawn(['-e', '0']));
      t.help.push(timeSpawn([bin, '--help']));
      t.unlock.push(timeSpawn([bin, 'unlock', '--home', small, '--password-stdin'], pw));
      t.small.push(timeSpawn([bin, 'record', 'list', '--home', small, '--password-stdin'], pw, SMALL));
      t.big.push(timeSpawn([bin, 'record', 'list', '--home', big, '--password-stdin', '--no-agent'], pw, RECORDS));
      t.agent.push(timeSpawn([bin, 'record', 'list', '--home', big], '', RECORDS));
      const k0 = performance.now();
      await deriveKek(PASSWORD, salt, DEFAULT_KDF);
      t.kdf.push(performance.now() - k0);
    }
    const running = agent;
    const ended = new Promise(r => (running.exitCode === null ? running.once('exit', r) : r(undefined)));
    timeSpawn([bin, 'lock', '--home', big]);
    await ended;
    const kdf = median(t.kdf);
    const list = median(t.big);
    return {
      node_startup_ms: round(median(t.node)),
      cli_help_ms: round(median(t.help)),
      cli_unlock_ms: round(median(t.unlock)),
      cli_record_list_small_ms: round(median(t.small)),
      cli_record_list_ms: round(list),
      cli_record_list_agent_ms: round(median(t.agent)),
      cli_record_list_records: RECORDS,
      argon2id_unlock_ms: round(kdf),
      argon2id_params: `m=${DEFAULT_KDF.m_kib} KiB, t=${DEFAULT_KDF.t}, p=${DEFAULT_KDF.p}`,
      cli_record_list_over_argon2id_ms: round(list - kdf),
    };
  } finally {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export const cliSuite: BenchSuite = {
  name: 'cli',
  description: `one CLI command as people run it (node bin/cloister.js): --help, unlock, record list on ${SMALL} and ${RECORDS} records (and on ${RECORDS} with cloister agent running), next to node -e 0 and Argon2id alone`,
  optIn: true,
  run: ctx => cliBench(ctx.log),
};
