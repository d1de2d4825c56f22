// The record-summary cache behind `cloister record list` (issue 13): the list comes from the cache only
// while every document's stored files are as they were when the cache read them; whatever another
// process writes since (an edit, a delete, a new record) shows at once. The cache is sealed under the
// vault's key in the state storage; a damaged one is rebuilt, never trusted, never a crash.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { AtomicFileStorageAdapter } from '../../src/docs/AtomicFileStorageAdapter.ts';
import { docsDirOf } from '../../src/docs/openSession.ts';
import { DocStamper, placesOf } from '../../src/docs/records/docStamps.ts';
import { readSummaryCache, SUMMARY_CACHE_KEY, writeSummaryCache } from '../../src/docs/records/summaryCache.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { deriveSubkey } from '../../src/crypto/hkdf.ts';
import { INFO } from '../../src/crypto/domains.ts';
import type { StorageNameKey } from '../../src/crypto/keys.ts';
import { deviceKeysOfVault } from '../../src/docs/sync/nodeSyncSession.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import type { UnlockedVault } from '../../src/identity/vault/types.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../src/identity/workspace/store.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { loadedModules } from './loadedModules.ts';
import { cloister, tempHome } from './run.ts';

integrationTimeouts();

const PASSWORD = 'correct horse battery staple';
const ENV = { CLOISTER_KDF: 'min', CLOISTER_AGENT_SOCK: undefined };

async function profile(): Promise<{ home: string; vault: UnlockedVault; workspaceId: string }> {
  const home = tempHome();
  const { vault } = await createVault(home, PASSWORD, { kdf: MIN_KDF });
  const ws = createWorkspace({ ...deviceKeysOfVault(vault), name: 'Alice' }, 'Clinic', { now: Date.now() });
  saveWorkspace(home, vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: {} });
  return { home, vault, workspaceId: ws.workspaceId };
}

function cliOf(home: string) {
  const run = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin', '--no-agent'], `${PASSWORD}\n`, ENV);
  return (...args: string[]): string => {
    const r = run(...args);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
}

async function stateOf(home: string, vault: UnlockedVault, workspaceId: string) {
  const opened = await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(docsDirOf(home, vault, workspaceId), 'state')), vault.dataKey);
  if (!opened.ok) throw new Error(opened.reason);
  return opened.value;
}

/** The cache file on disk (its name is a keyed hash). */
async function cacheFile(home: string, vault: UnlockedVault, workspaceId: string): Promise<string> {
  const state = await stateOf(home, vault, workspaceId);
  return join(docsDirOf(home, vault, workspaceId), 'state', ...state.storedNameOf(SUMMARY_CACHE_KEY));
}

/** Rewrite one cached title (with the vault key, keeping every stamp): a list showing it came from the cache. */
async function markCachedTitle(home: string, vault: UnlockedVault, workspaceId: string, id: string, title: string): Promise<void> {
  const state = await stateOf(home, vault, workspaceId);
  const cache = await readSummaryCache(state, workspaceId);
  const entry = cache!.docs.find(d => d.id === id)!;
  entry.summary = { ...entry.summary!, title };
  await writeSummaryCache(state, cache!);
}

describe('record list with the summary cache', () => {
  let p: Awaited<ReturnType<typeof profile>>;
  let ok: ReturnType<typeof cliOf>;
  let boiler = '';
  let attic = '';
  beforeAll(async () => {
    p = await profile();
    ok = cliOf(p.home);
    boiler = ok('record', 'add', '--title', 'Boiler').trim();
    attic = ok('record', 'add', '--title', 'Attic').trim();
  });

  it('a second list is answered from the cache (a title only the cache holds shows)', async () => {
    expect(ok('record', 'list')).toBe(`${attic}  Attic\n${boiler}  Boiler\n`);
    await markCachedTitle(p.home, p.vault, p.workspaceId, boiler, 'Boiler (from the cache)');
    expect(ok('record', 'list')).toBe(`${attic}  Attic\n${boiler}  Boiler (from the cache)\n`);
  });

  it('record list shows an edit made by another process after the cache was written', async () => {
    await markCachedTitle(p.home, p.vault, p.workspaceId, boiler, 'Boiler (from the cache)');
    ok('record', 'edit', boiler, '--title', 'Boiler room');
    expect(ok('record', 'list')).toBe(`${attic}  Attic\n${boiler}  Boiler room\n`);
  });

  it('record list shows a record added, and one deleted, by another process after the cache was written', () => {
    expect(ok('record', 'list')).toContain('Boiler room');
    const cellar = ok('record', 'add', '--title', 'Cellar').trim();
    ok('record', 'rm', attic);
    expect(ok('record', 'list')).toBe(`${boiler}  Boiler room\n${cellar}  Cellar\n`);
    expect(ok('record', 'list', '--deleted')).toBe(`${attic}  Attic  (deleted)\n`);
  });

  it('--json, --all, --search and --sort from the cache match the documents', async () => {
    ok('record', 'list');
    const fromCache = {
      all: ok('record', 'list', '--all', '--json'),
      search: ok('record', 'list', '--search', 'room', '--json'),
      sorted: ok('record', 'list', '--sort', 'updated'),
    };
    // A broken cache makes the list read every document again: the same answers.
    writeFileSync(await cacheFile(p.home, p.vault, p.workspaceId), 'not a sealed value');
    expect(ok('record', 'list', '--all', '--json')).toBe(fromCache.all);
    expect(ok('record', 'list', '--search', 'room', '--json')).toBe(fromCache.search);
    expect(ok('record', 'list', '--sort', 'updated')).toBe(fromCache.sorted);
    expect(JSON.parse(fromCache.all).map((r: { title: string }) => r.title)).toEqual(['Attic', 'Boiler room', 'Cellar']);
    expect(JSON.parse(fromCache.search)[0]).toMatchObject({ id: boiler, title: 'Boiler room', tags: [] });
  });
});

describe('the summary cache is derived and sealed', () => {
  it('a damaged summary cache is rebuilt, not trusted', async () => {
    const p = await profile();
    const ok = cliOf(p.home);
    const id = ok('record', 'add', '--title', 'Boiler').trim();
    ok('record', 'list');
    const file = await cacheFile(p.home, p.vault, p.workspaceId);
    const sealed = readFileSync(file);
    sealed[sealed.length - 5]! ^= 0x01; // one flipped bit: the AEAD refuses it
    writeFileSync(file, sealed);
    expect(ok('record', 'list')).toBe(`${id}  Boiler\n`);
    expect(await readSummaryCache(await stateOf(p.home, p.vault, p.workspaceId), p.workspaceId)).toMatchObject({ docs: [{ id, summary: { title: 'Boiler' } }] });
    // A well-sealed cache of the wrong shape (another version, a bug) is rebuilt too.
    const state = await stateOf(p.home, p.vault, p.workspaceId);
    await state.save(SUMMARY_CACHE_KEY, new TextEncoder().encode(JSON.stringify({ v: 1, workspaceId: p.workspaceId, index: {}, docs: [{ title: 'Eve was here' }] })));
    expect(ok('record', 'list')).toBe(`${id}  Boiler\n`);
    writeFileSync(file, Buffer.alloc(0));
    expect(ok('record', 'list')).toBe(`${id}  Boiler\n`);
  });

  it('the summary cache is not readable without the vault key', async () => {
    const p = await profile();
    const ok = cliOf(p.home);
    ok('record', 'add', '--title', 'Secret diagnosis');
    ok('record', 'list');
    const file = await cacheFile(p.home, p.vault, p.workspaceId);
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from('Secret'))).toBe(false);
    expect(bytes.includes(Buffer.from('diagnosis'))).toBe(false);
    // Nothing anywhere under the profile holds the title in the clear.
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    for (const f of walk(p.home)) expect(readFileSync(f).includes(Buffer.from('Secret diagnosis')), f).toBe(false);
    // Another vault's key opens nothing.
    const other = await profile();
    const state = await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(docsDirOf(p.home, p.vault, p.workspaceId), 'state')), other.vault.dataKey);
    expect(state.ok).toBe(false);
  });

  it('every part of a stamp changes with an edit: chunks, outbox, provenance (so none is missed)', async () => {
    const p = await profile();
    const ok = cliOf(p.home);
    const id = ok('record', 'add', '--title', 'Boiler').trim();
    const dir = docsDirOf(p.home, p.vault, p.workspaceId);
    const places = placesOf(deriveSubkey<StorageNameKey>(p.vault.dataKey, INFO.storageNames), id);
    // Each place exists for a record made here and not yet synced.
    expect(readdirSync(join(dir, 'repo', places.repo)).length).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'state', places.outbox)).length).toBe(1);
    expect(readdirSync(join(dir, 'state', places.provenance)).length).toBe(1);
    expect(readFileSync(join(dir, 'state', places.known)).length).toBeGreaterThan(0);
    const before = new DocStamper(dir);
    const stamp = before.stamp(places);
    const provenance = before.provenanceStamp(places);
    expect(new DocStamper(dir).stamp(places)).toBe(stamp);
    ok('record', 'edit', id, '--title', 'Boiler room');
    const after = new DocStamper(dir);
    expect(after.stamp(places)).not.toBe(stamp);
    expect(after.provenanceStamp(places)).not.toBe(provenance);
    expect(readdirSync(join(dir, 'state', places.outbox)).length).toBe(2);
  });
});

describe('record list from the cache loads little', () => {
  it('a list answered from the cache loads no Automerge, Repo or session code (and no other command group)', async () => {
    const p = await profile();
    const ok = cliOf(p.home);
    const id = ok('record', 'add', '--title', 'Boiler').trim();
    ok('record', 'list');
    const root = join(import.meta.dirname, '..', '..');
    const file = join(tempHome(), 'imports.txt');
    const r = spawnSync(process.execPath, ['--import', join(import.meta.dirname, 'fixtures', 'traceImports.mjs'), join(root, 'bin', 'cloister.js'), 'record', 'list', '--home', p.home, '--password-stdin', '--no-agent'], {
      input: `${PASSWORD}\n`, encoding: 'utf8', timeout: CHILD_MS,
      env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_DEV: undefined, CLOISTER_KDF: 'min', CLOISTER_TRACE_IMPORTS: file },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${id}  Boiler\n`);
    const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(urls.filter(u => /\/node_modules\/@automerge\//.test(u))).toEqual([]);
    const mine = loadedModules(urls);
    expect(mine).toContain('build/src/docs/records/cachedList.js');
    expect(mine.filter(u => /DocSession|openSession|RecordStore|\/sync\/|\/commands\/(?!record\.js)/.test(u))).toEqual([]);
  });
});
