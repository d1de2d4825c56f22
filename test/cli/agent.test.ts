// `cloister agent` and `cloister lock` as people run them: the real binary, spawned, with a throwaway
// --home. The agent holds the unlocked profile behind a socket only its user can open; commands ask it
// instead of the password, see what other processes wrote, and ask for the password again once it
// has locked. Every agent a test starts is killed in afterEach.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD as PW } from '../passwords.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { parseIdle } from '../../src/cli/commands/agent.ts';
import { cloister, expectOneLineError, init, tempHome } from './run.ts';

integrationTimeouts();

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
const ENV = { CLOISTER_KDF: 'min', CLOISTER_AGENT_SOCK: undefined };

const children: ChildProcess[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const run = (args: string[], input = '') => cloister(args, input, ENV);

/** A profile with a vault, one workspace and the given records (made with the password, no agent). */
function profile(titles: string[] = []): string {
  const home = tempHome();
  init(home, PW);
  expect(run(['workspace', 'create', 'team', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
  for (const t of titles) expect(run(['record', 'add', '--title', t, '--home', home, '--password-stdin', '--no-agent'], `${PW}\n`).code).toBe(0);
  return home;
}

interface Agent {
  child: ChildProcess;
  socket: string;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** `cloister agent --foreground`, resolved once it prints its shell lines (it serves from then on). */
async function startAgent(home: string, extra: string[] = []): Promise<Agent> {
  const child = spawn(process.execPath, [BIN, 'agent', '--foreground', '--home', home, '--password-stdin', ...extra], {
    env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_AGENT_SOCK: undefined, CLOISTER_KDF: 'min' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdin!.end(`${PW}\n`);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const socket = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start: ${err}`)), CHILD_MS);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /CLOISTER_AGENT_SOCK='([^']+)'/.exec(out);
      if (m && out.includes('echo Agent pid')) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`the agent exited (${code}) before serving: ${err}`)));
  });
  return { child, socket, exited, stderr: () => err };
}

/** Send raw bytes to the socket and read what comes back before it closes (the agent may hang up on a sender mid-write). */
function raw(socket: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(socket);
    let got = '';
    s.on('connect', () => s.end(bytes));
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', () => undefined); // EPIPE after the agent refused a request too large: its answer came first
  });
}

function oneLineRefusal(reply: string, reason: string): void {
  expect(reply.endsWith('\n')).toBe(true);
  expect(reply.trimEnd().split('\n')).toHaveLength(1);
  const r = JSON.parse(reply) as { ok: boolean; reason: string; message: string };
  expect(r.ok).toBe(false);
  expect(r.reason).toBe(reason);
  expect(r.message).not.toMatch(/\n/);
}

const titles = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => l.split(/\s{2}/)[1]);

describe('cloister agent', () => {
  it("--idle reads times like ssh-agent's -t (a bare number is seconds) and refuses what a timer can't hold", () => {
    expect(parseIdle('90')).toBe(90_000);
    expect(parseIdle('15m')).toBe(900_000);
    expect(parseIdle('1h30m')).toBe(5_400_000);
    expect(parseIdle('never')).toBe(Infinity);
    for (const bad of ['', '0', '500ms', 'soon', '-5m', '30d', '1.5h']) expect(parseIdle(bad), bad).toBeUndefined();
  });

  it('a command run while the agent is up needs no password: list, show, add, edit, rm and status', async () => {
    const home = profile(['Boiler room', 'Attic']);
    await startAgent(home);
    const list = run(['record', 'list', '--home', home]);
    expect(list.code, list.stderr).toBe(0);
    expect(titles(list.stdout)).toEqual(['Attic', 'Boiler room']);

    const added = run(['record', 'add', '--title', 'Cellar', '--field', 'door=blue', '--tag', 'cold', '--home', home]);
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    // Edits through the agent are sealed into the outbox for the relay, like any other.
    const outbox = () => (JSON.parse(run(['status', '--json', '--home', home]).stdout) as { outbox: number }).outbox;
    const waiting = outbox();
    expect(run(['record', 'edit', id.slice(0, 8), '--title', 'Wine cellar', '--home', home]).code).toBe(0);
    expect(outbox()).toBeGreaterThan(waiting);
    const shown = run(['record', 'show', id, '--json', '--home', home]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, title: 'Wine cellar', fields: { door: 'blue' }, tags: ['cold'] });
    expect(run(['record', 'list', '--search', 'wine', '--home', home]).stdout).toContain('Wine cellar');

    const attic = /^(\S+)\s+Attic$/m.exec(list.stdout)![1]!;
    expect(run(['record', 'rm', attic, '--home', home]).code).toBe(0);
    expect(titles(run(['record', 'list', '--home', home]).stdout)).toEqual(['Boiler room', 'Wine cellar']);
    expect(titles(run(['record', 'list', '--deleted', '--home', home]).stdout)).toEqual(['Attic']);

    const status = run(['status', '--home', home]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^workspace  team /);

    // A prefix that matches nothing is the same one line as without the agent.
    expectOneLineError(run(['record', 'show', 'zzzzzz', '--home', home]), /no record zzzzzz/);
  });

  it("the agent's socket is 0600 in a 0700 directory inside the profile", async () => {
    const home = profile();
    const { socket } = await startAgent(home);
    expect(socket).toBe(join(home, 'agent', 'agent.sock'));
    const st = statSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'agent')).mode & 0o777).toBe(0o700);
  });

  it('after `cloister lock` the agent is gone and a command asks for the password again', async () => {
    const home = profile(['Attic']);
    const agent = await startAgent(home);
    expect(run(['record', 'list', '--home', home]).code).toBe(0);
    const locked = run(['lock', '--home', home]);
    expect(locked.code, locked.stderr).toBe(0);
    expect(locked.stderr).toMatch(/agent locked/);
    expect(await agent.exited).toBe(0);
    expect(existsSync(agent.socket)).toBe(false);
    // No password on stdin and no terminal: the command must ask, so it fails saying so.
    expectOneLineError(run(['record', 'list', '--home', home]), /no terminal to ask for the password/);
    expect(titles(run(['record', 'list', '--home', home, '--password-stdin'], `${PW}\n`).stdout)).toEqual(['Attic']);
    expect(run(['lock', '--home', home]).stderr).toMatch(/no agent is running/);
  });

  it('the agent locks itself after the idle timeout, counted from the last request', async () => {
    const home = profile(['Attic']);
    const agent = await startAgent(home, ['--idle', '8s']);
    expect(run(['record', 'list', '--home', home]).code).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    const lastAsked = Date.now();
    expect(run(['record', 'list', '--home', home]).code).toBe(0); // still up: this resets the clock
    expect(await agent.exited).toBe(0);
    // Without the reset it would have locked about 3 s earlier than this.
    expect(Date.now() - lastAsked).toBeGreaterThanOrEqual(8000);
    expect(agent.stderr()).toMatch(/locked after 8 s without a request/);
    expect(existsSync(agent.socket)).toBe(false);
    expectOneLineError(run(['record', 'list', '--home', home]), /no terminal to ask for the password/);
  });

  it("a record added or edited without the agent shows in the agent's list and show", async () => {
    const home = profile(['Attic']);
    await startAgent(home);
    const before = run(['record', 'list', '--home', home]);
    expect(titles(before.stdout)).toEqual(['Attic']);
    const attic = before.stdout.split(/\s+/)[0]!;

    const added = run(['record', 'add', '--title', 'Barn', '--no-agent', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(added.code, added.stderr).toBe(0);
    expect(run(['record', 'edit', attic, '--title', 'Loft', '--field', 'floor=3', '--no-agent', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);

    expect(titles(run(['record', 'list', '--home', home]).stdout)).toEqual(['Barn', 'Loft']);
    expect(JSON.parse(run(['record', 'show', attic, '--json', '--home', home]).stdout)).toMatchObject({ title: 'Loft', fields: { floor: '3' } });
    // And the other way: what the agent wrote is on disk for a command without it.
    expect(run(['record', 'add', '--title', 'Cellar', '--home', home]).code).toBe(0);
    expect(titles(run(['record', 'list', '--no-agent', '--home', home, '--password-stdin'], `${PW}\n`).stdout)).toEqual(['Barn', 'Cellar', 'Loft']);
  });

  it('what the agent wrote survives `cloister lock`', async () => {
    const home = profile();
    const agent = await startAgent(home);
    const id = run(['record', 'add', '--title', 'Shed', '--notes', 'rake, spade', '--home', home]).stdout.trim();
    expect(run(['lock', '--home', home]).code).toBe(0);
    await agent.exited;
    const shown = run(['record', 'show', id, '--json', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ title: 'Shed', notes: 'rake, spade' });
  });

  it('a malformed request gets a one-line error and the agent keeps serving', async () => {
    const home = profile(['Attic']);
    const { socket } = await startAgent(home);
    oneLineRefusal(await raw(socket, 'not json\n'), 'request_malformed');
    oneLineRefusal(await raw(socket, '{"v":2,"op":"ping","home":"/"}\n'), 'request_version');
    oneLineRefusal(await raw(socket, `${JSON.stringify({ v: 1, op: 'record.drop', home })}\n`), 'request_malformed');
    oneLineRefusal(await raw(socket, `${JSON.stringify({ v: 1, op: 'record.add', home, args: { title: 'x', fields: { __proto__: 'y' }, tags: [] } })}\n`), 'request_malformed');
    oneLineRefusal(await raw(socket, `${JSON.stringify({ v: 1, op: 'record.list', home, args: {}, extra: true })}\n`), 'request_malformed');
    oneLineRefusal(await raw(socket, '{"v":1,"op":"ping"'), 'request_malformed'); // the connection ends mid-line
    oneLineRefusal(await raw(socket, Buffer.alloc(5 * 1024 * 1024, 0x41)), 'request_too_large');
    oneLineRefusal(await raw(socket, `${JSON.stringify({ v: 1, op: 'record.list', home: '/elsewhere', args: {} })}\n`), 'agent_other_profile');
    oneLineRefusal(await raw(socket, `${JSON.stringify({ v: 1, op: 'record.get', home, args: { id: 'zz' } })}\n`), 'record_not_found');
    const list = run(['record', 'list', '--home', home]);
    expect(list.code, list.stderr).toBe(0);
    expect(titles(list.stdout)).toEqual(['Attic']);
  });

  it('a command for another profile does not use the agent named by CLOISTER_AGENT_SOCK', async () => {
    const home = profile(['Attic']);
    const other = profile(['Garage']);
    const { socket } = await startAgent(home);
    const r = cloister(['record', 'list', '--home', other, '--password-stdin'], `${PW}\n`, { ...ENV, CLOISTER_AGENT_SOCK: socket });
    expect(r.code, r.stderr).toBe(0);
    expect(titles(r.stdout)).toEqual(['Garage']);
    const mine = cloister(['record', 'list', '--home', home], '', { ...ENV, CLOISTER_AGENT_SOCK: socket });
    expect(titles(mine.stdout)).toEqual(['Attic']);
  });

  it('a command will not talk to an agent socket other users could open', async () => {
    const home = profile(['Attic']);
    const { socket } = await startAgent(home);
    chmodSync(join(home, 'agent'), 0o755);
    const r = run(['record', 'list', '--home', home]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not using the agent socket: .* is open to other users \(mode 755\) \[agent_socket_unsafe\]/);
    expect(r.stderr).toMatch(/no terminal to ask for the password/);
    chmodSync(join(home, 'agent'), 0o700);
    chmodSync(socket, 0o666);
    expect(run(['record', 'list', '--home', home]).stderr).toMatch(/mode 666\) \[agent_socket_unsafe\]/);
  });

  it('a second agent for the same profile is refused, and a wrong password starts none', async () => {
    const home = profile();
    const wrong = run(['agent', '--foreground', '--home', home, '--password-stdin'], 'not the password\n');
    expectOneLineError(wrong, /wrong password/);
    expect(existsSync(join(home, 'agent', 'agent.sock'))).toBe(false);
    await startAgent(home);
    expectOneLineError(run(['agent', '--foreground', '--home', home, '--password-stdin'], `${PW}\n`), /already listening .*\[agent_running\]|already listening/);
    expectOneLineError(run(['agent', '--idle', 'soon', '--home', home]), /--idle must be a time/);
  });

  it('`cloister agent` detaches and prints shell lines like ssh-agent; `cloister lock` ends it', async () => {
    const home = profile(['Attic']);
    const r = run(['agent', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(r.code, r.stderr).toBe(0);
    const m = /^CLOISTER_AGENT_SOCK='([^']+)'; export CLOISTER_AGENT_SOCK;\nCLOISTER_AGENT_PID=(\d+); export CLOISTER_AGENT_PID;\necho Agent pid \2;\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const pid = Number(m![2]);
    pids.push(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(titles(run(['record', 'list', '--home', home]).stdout)).toEqual(['Attic']);
    expect(run(['lock', '--home', home]).code).toBe(0);
    const deadline = Date.now() + CHILD_MS;
    while (Date.now() < deadline && alive(pid)) await new Promise((res) => setTimeout(res, 50));
    expect(alive(pid)).toBe(false);
  });
});

/** Running (a zombie left for a PID 1 that does not reap counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): kill(0) said it runs
  }
}
