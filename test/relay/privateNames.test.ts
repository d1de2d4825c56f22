// Names are private (DESIGN → Membership log): the workspace's name and members' display names are
// sealed under a key derived from the epoch key, so the relay's database holds ids, roles and keys
// only. A grep over every byte the relay wrote, with teeth: members who read the chain see the names.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { buildJoin, createInvitation } from '../../src/identity/workspace/invitations.ts';
import { replayLog } from '../../src/identity/workspace/log.ts';
import { withNames } from '../../src/identity/workspace/names.ts';
import { members } from '../../src/identity/workspace/selectors.ts';
import { connect, device, startTestRelay, type TestRelay } from './helpers.ts';
import { collectEpochKeys } from '../../src/docs/sync/chainSync.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const WORKSPACE = 'Oncology Ward Seven';
const ALICE = 'Alice Quennell-Marsh';
const BOB = 'Bartholomew Zykowski';

let t: TestRelay | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** Every byte of every file in `dir`, as latin1 text (a UTF-8 name shows up verbatim). */
const everyByte = (dir: string): string => readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');

describe('names are private', () => {
  it('names don’t appear in the relay’s database, yet every member reads them from the chain', async () => {
    t = await startTestRelay();
    const alice = { ...device('alice'), name: ALICE };
    const bob = { ...device('bob'), name: BOB };
    const now = Date.now();
    const created = createWorkspace(alice, WORKSPACE, { now });
    const a = await connect(t.relay, alice);
    await a.appendLog(created.workspaceId, created.root);
    const inv = createInvitation(created.state, alice, created.epochKey, { role: 'writer', expiresAt: now + 3600_000, now });
    await a.appendLog(created.workspaceId, inv.entry.bytes);
    const b = await connect(t.relay, bob);
    const chain = replayLog(await b.getLog(created.workspaceId), { relayPub: b.relayPub });
    if (!chain.ok) throw new Error(chain.reason);
    const join = buildJoin(chain.value, inv.code, bob, Date.now());
    if (!join.ok) throw new Error(join.reason);
    await b.appendLog(created.workspaceId, join.value.entry.bytes);

    // Teeth: bob, a member, opens both names from the chain the relay serves.
    const served = replayLog(await b.getLog(created.workspaceId), { relayPub: b.relayPub });
    if (!served.ok) throw new Error(served.reason);
    const keys = collectEpochKeys(served.value, bob.deviceId, bob.boxKey, new Map());
    const seen = withNames(served.value, keys);
    expect(seen.name).toBe(WORKSPACE);
    expect(members(seen).map((m) => m.name)).toEqual([ALICE, BOB]);
    // Without the epoch key (the relay's position) no name opens.
    expect(withNames(served.value, new Map()).name).toBe('');
    a.close();
    b.close();

    await t.relay.close();
    const bytes = everyByte(t.dir);
    expect(bytes.length).toBeGreaterThan(0);
    for (const name of [WORKSPACE, ALICE, BOB, 'Oncology', 'Quennell', 'Zykowski']) expect(bytes.includes(name), name).toBe(false);
    // The same grep finds ids the relay must see (so it would find a name stored the same way).
    expect(bytes.includes(created.workspaceId)).toBe(true);
    rmSync(t.dir, { recursive: true, force: true });
    t = undefined;
  });
});
