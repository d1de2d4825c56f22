// SIGTERM on a real relay process: it stops accepting, finishes in-flight writes, closes the store
// and exits 0; every envelope it acknowledged is there when it starts again on the same file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { connect, device, envelope, leaseIdOf, publishWorkspace } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

function spawnRelay(dbPath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/relayProcess.ts'), dbPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`relay exited early (${code})`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, exited };
}

describe('relay process', () => {
  it('SIGTERM mid-stream loses no acknowledged envelope and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-sigterm-'));
    const db = join(dir, 'relay.sqlite');
    try {
      const p1 = spawnRelay(db);
      const url1 = await p1.url;
      const relay1 = { url: url1 } as Parameters<typeof connect>[0];
      const alice = device('alice');
      const w = await publishWorkspace(relay1, alice);
      const a = await connect(relay1, alice, [w.workspaceId]);
      const leaseId = leaseIdOf(a, w.workspaceId);
      const envs = Array.from({ length: 40 }, (_, i) => envelope(alice, { workspaceId: w.workspaceId, seq: i + 1, leaseId }));
      const acked = new Map<number, Uint8Array>();
      const pushes = envs.map((e) => a.push(e).then((r) => void (r.status === 'acked' && acked.set(r.relaySeq, e)), () => undefined));
      await new Promise((r) => setTimeout(r, 10));
      p1.child.kill('SIGTERM');
      await Promise.all(pushes);
      expect(await p1.exited).toBe(0);

      const p2 = spawnRelay(db);
      const relay2 = { url: await p2.url } as Parameters<typeof connect>[0];
      const b = await connect(relay2, alice, [w.workspaceId]);
      const stored = (await b.pull(w.workspaceId, 0, 1000, true)).envelopes;
      for (const [seq, bytes] of acked) expect(stored.find((e) => e.relaySeq === seq)?.envelope).toEqual(bytes);
      b.close();
      p2.child.kill('SIGTERM');
      expect(await p2.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
