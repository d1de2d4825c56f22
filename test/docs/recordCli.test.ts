// The record and history commands end to end, through bin/cloister.js, on a profile with a vault and
// one workspace (made here with the library, since `workspace create` may not exist yet).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as A from '@automerge/automerge';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { openRecordSession } from '../../src/docs/openSession.ts';
import { unlockVault } from '../../src/identity/vault/unlockVault.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../src/identity/workspace/store.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'cloister-cli-'));
const bin = join(import.meta.dirname, '../../bin/cloister.js');
const env = { ...process.env, CLOISTER_HOME: home, CLOISTER_KDF: 'min' };

async function cloister(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = run(process.execPath, [bin, ...args, '--password-stdin'], { env, timeout: CHILD_MS });
  child.child.stdin!.end('pw\n');
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

beforeAll(async () => {
  const { vault } = await createVault(home, 'pw', { kdf: MIN_KDF });
  const ws = createWorkspace(
    { userId: vault.userId, deviceId: vault.device.deviceId, signingKey: vault.device.signingKey, signingPub: vault.device.signingPub, boxKey: vault.device.boxKey, boxPub: vault.device.boxPub },
    'Household',
    { now: Date.now() },
  );
  saveWorkspace(home, vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: {} });
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(n => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe('cloister record / history', () => {
  it('alice adds, lists, shows, edits and removes a record from the command line, and sees its history', async () => {
    const add = await cloister('record', 'add', '--title', 'Boiler', '--field', 'room=cellar', '--notes', 'check valve');
    expect(add.code, add.stderr).toBe(0);
    const id = add.stdout.trim();
    expect(id).toMatch(/^[1-9A-HJ-NP-Za-km-z]{20,}$/);

    const list = await cloister('record', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([{ id, title: 'Boiler', deleted: false }]);

    const edit = await cloister('record', 'edit', id.slice(0, 8), '--title', 'Boiler room', '--field', 'floor=-1');
    expect(edit.code, edit.stderr).toBe(0);
    const show = JSON.parse((await cloister('record', 'show', id, '--json')).stdout);
    expect(show).toMatchObject({ id, title: 'Boiler room', fields: { room: 'cellar', floor: '-1' }, notes: 'check valve', deleted: false });

    const hist = JSON.parse((await cloister('history', id, '--json')).stdout);
    expect(hist.entries.length).toBeGreaterThanOrEqual(2);
    expect(hist.entries.every((e: { verified: boolean }) => e.verified)).toBe(true);
    expect(hist.entries.flatMap((e: { fields: string[] }) => e.fields)).toEqual(expect.arrayContaining(['title', 'fields.floor']));

    expect((await cloister('record', 'rm', id)).code).toBe(0);
    expect(JSON.parse((await cloister('record', 'list', '--json')).stdout)).toEqual([]);
    const missing = await cloister('record', 'show', 'zzzz');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    // Nothing on disk names the record, holds its text, or shows a change hash (hex or raw).
    const vault = await unlockVault(home, 'pw');
    if (!vault.ok) throw new Error(vault.reason);
    const s = await openRecordSession({ home, vault: vault.value });
    if (!s.ok) throw new Error(s.reason);
    const hashes: string[] = [];
    for (const docId of [id, s.value.records.indexId]) {
      const handle = await s.value.session.open<unknown>(docId);
      hashes.push(...A.getAllChanges(handle!.doc()).map(c => A.decodeChange(c).hash));
    }
    await s.value.close();
    expect(hashes.length).toBeGreaterThan(3);
    const secrets = [Buffer.from('Boiler'), Buffer.from('cellar'), Buffer.from('check valve'), Buffer.from(id), Buffer.from(s.value.records.indexId),
      ...hashes.flatMap(h => [Buffer.from(h), Buffer.from(h, 'hex')])];
    for (const f of allFiles(home)) {
      expect(f.includes(id), f).toBe(false);
      for (const h of hashes) expect(f.includes(h), f).toBe(false);
      const bytes = readFileSync(f);
      for (const secret of secrets) expect(bytes.includes(secret), `${f} holds ${secret.toString('hex').slice(0, 16)}`).toBe(false);
    }
  });

  it('a wrong password says so, in one line', async () => {
    const child = run(process.execPath, [bin, 'record', 'list', '--password-stdin'], { env, timeout: CHILD_MS });
    child.child.stdin!.end('nope\n');
    const err = await child.catch(e => e as { stderr: string; code: number });
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr.trim()).toBe('cloister: wrong password');
  });
});
