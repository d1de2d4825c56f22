// Stories about the local workspace store: sealed under the vault's data key, names reveal nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../../src/crypto/keys.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { logEntries, replayLog } from '../../../src/identity/workspace/log.ts';
import { members } from '../../../src/identity/workspace/selectors.ts';
import { listWorkspaces, loadWorkspace, saveWorkspace } from '../../../src/identity/workspace/store.ts';
import { NOW, device, keysOf } from './fixtures.ts';

const homes: string[] = [];
const home = () => {
  const h = mkdtempSync(join(tmpdir(), 'cloister-ws-'));
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function saved() {
  const h = home();
  const dataKey = asKey<DataKey>(randomBytes(32));
  const alice = device('alice');
  const { state, workspaceId } = createWorkspace(alice, 'Secret Team Name', { now: NOW });
  saveWorkspace(h, dataKey, { workspaceId, entries: logEntries(state), epochKeys: keysOf(state, alice), meta: { relay: 'ws://127.0.0.1:8787' } });
  return { h, dataKey, workspaceId, alice };
}

describe('workspace store', () => {
  it('alice’s workspace round-trips through the store and replays to the same members', () => {
    const { h, dataKey, workspaceId } = saved();
    const r = loadWorkspace(h, dataKey, workspaceId);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.meta.relay).toBe('ws://127.0.0.1:8787');
    expect([...r.value.epochKeys.keys()]).toEqual([0]);
    const state = replayLog(r.value.entries);
    expect(state.ok && members(state.value).map((m) => m.userId)).toEqual(['alice']);
    expect(listWorkspaces(h, dataKey).map((w) => w.workspaceId)).toEqual([workspaceId]);
  });

  it('a thief with the disk sees neither the workspace id nor its name in file names or contents', () => {
    const { h, workspaceId } = saved();
    const files = readdirSync(join(h, 'workspaces'));
    expect(files).toHaveLength(1);
    expect(files[0]!.includes(workspaceId)).toBe(false);
    const raw = Buffer.from(readFileSync(join(h, 'workspaces', files[0]!)));
    expect(raw.includes(Buffer.from(workspaceId))).toBe(false);
    expect(raw.includes(Buffer.from('Secret Team Name'))).toBe(false);
  });

  it('another vault’s data key opens nothing', () => {
    const { h, workspaceId } = saved();
    const other = asKey<DataKey>(randomBytes(32));
    expect(listWorkspaces(h, other)).toEqual([]);
    const r = loadWorkspace(h, other, workspaceId);
    expect(r.ok ? 'opened' : r.reason).toBe('store_missing');
  });

  it('a tampered file is refused', () => {
    const { h, dataKey, workspaceId } = saved();
    const dir = join(h, 'workspaces');
    const file = join(dir, readdirSync(dir)[0]!);
    const raw = readFileSync(file);
    raw[raw.length - 3]! ^= 1;
    writeFileSync(file, raw);
    const r = loadWorkspace(h, dataKey, workspaceId);
    expect(r.ok ? 'opened' : r.reason).toBe('store_corrupt');
  });
});
