// The CLI finds records and shows their history with values (issue 12): `record list --search/--tag/
// --sort` finds on this device; `history ID` prints old → new values (never internal keys) under the
// member's display name from the workspace log; `record show` names who created and changed it.
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { deviceKeysOfVault } from '../../src/docs/sync/nodeSyncSession.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../src/identity/workspace/store.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cloister, tempHome } from './run.ts';

integrationTimeouts();

const PASSWORD = 'correct horse battery staple';
const home = tempHome();
let userId = '';
const cli = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${PASSWORD}\n`);
function ok(...args: string[]): string {
  const r = cli(...args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  const { vault } = await createVault(home, PASSWORD, { kdf: MIN_KDF });
  userId = vault.userId;
  const ws = createWorkspace({ ...deviceKeysOfVault(vault), name: 'Alice Martin' }, 'Clinic', { now: Date.now() });
  saveWorkspace(home, vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: {} });
});

describe('cloister record list --search / history with values', () => {
  let boiler = '';
  let attic = '';
  it('record list --search finds a record by a field value (case and accents ignored), --tag filters and --sort orders', () => {
    boiler = ok('record', 'add', '--title', 'Boiler', '--field', 'room=Cave à vin', '--tag', 'home').trim();
    attic = ok('record', 'add', '--title', 'Attic', '--notes', 'wasp nest', '--tag', 'yearly').trim();
    ok('record', 'add', '--title', 'Cellar door', '--tag', 'home');
    expect(ok('record', 'list', '--search', 'CAVE A VIN')).toBe(`${boiler}  Boiler\n`);
    expect(ok('record', 'list', '--search', 'wasp')).toBe(`${attic}  Attic\n`);
    expect(ok('record', 'list', '--search', 'wasp boiler')).toBe('');
    const tagged = JSON.parse(ok('record', 'list', '--tag', 'home', '--json'));
    expect(tagged.map((r: { title: string }) => r.title)).toEqual(['Boiler', 'Cellar door']);
    expect(tagged[0]).toMatchObject({ id: boiler, tags: ['home'], updatedBy: userId });
    expect(tagged[0].searchText).toBeUndefined();
    ok('record', 'edit', attic, '--title', 'Attic (loft)');
    const byUpdated = ok('record', 'list', '--sort', 'updated').trim().split('\n');
    expect(byUpdated[0]).toMatch(new RegExp(`^${attic}  Attic \\(loft\\)  \\(.+ by Alice Martin \\(${userId.slice(0, 6)}\\)\\)$`));
    expect(ok('record', 'list', '--sort', 'title').trim().split('\n').map(l => l.split('  ')[1])).toEqual(['Attic (loft)', 'Boiler', 'Cellar door']);
    const bad = cli('record', 'list', '--sort', 'colour');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--sort must be one of title, updated, author/);
  });

  it('history prints each value old → new under the display name, and --json gives the structured entries', () => {
    ok('record', 'edit', boiler, '--title', 'Boiler room', '--field', 'room=Attic', '--field', 'floor=2');
    ok('record', 'edit', boiler, '--tag', 'home', '--tag', 'yearly');
    const text = ok('history', boiler);
    const who = `Alice Martin (${userId.slice(0, 6)})`;
    expect(text).toContain(who);
    expect(text).toContain('    title: "Boiler" → "Boiler room"');
    expect(text).toContain('    field "room": "Cave à vin" → "Attic"');
    expect(text).toContain('    field "floor": (none) → "2"');
    expect(text).toContain('    tags: ["home"] → ["home", "yearly"]');
    expect(text).not.toMatch(/createdAt|updatedBy|UNVERIFIED/);
    const json = JSON.parse(ok('history', boiler, '--json'));
    expect(json.entries.every((e: { verified: boolean; author: string }) => e.verified && e.author === who)).toBe(true);
    expect(json.entries.flatMap((e: { values: unknown[] }) => e.values)).toEqual(expect.arrayContaining([
      { path: 'title', old: 'Boiler', new: 'Boiler room' },
      { path: 'fields.floor', new: '2' },
      { path: 'tags', old: ['home'], new: ['home', 'yearly'] },
    ]));
    // "Restore this value": the old value written back as an ordinary edit, which history then shows.
    ok('record', 'edit', boiler, '--title', 'Boiler');
    expect(ok('history', boiler)).toContain('    title: "Boiler room" → "Boiler"');
  });

  it('record show names who created and changed the record', () => {
    const shown = ok('record', 'show', boiler);
    expect(shown).toMatch(new RegExp(`created  .+ by Alice Martin \\(${userId.slice(0, 6)}\\) \\(device `));
    expect(shown).toMatch(/updated  .+ by Alice Martin/);
  });
});
