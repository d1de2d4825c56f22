// Leader election between tabs (src/app/tabs/tabLeader.ts) over a stand-in for Web Locks: one tab
// leads at a time, the next waiting tab takes over when the leader lets go, and a tab that gives up
// while still waiting never leads.
import { describe, expect, it } from 'vitest';
import { electLeader, leaderLockName, type LeaderLocks } from '../../src/app/tabs/tabLeader.ts';

/** Exclusive locks granted in request order, like navigator.locks; aborting a waiting request rejects it. */
function fakeLocks(): LeaderLocks & { requested: string[] } {
  const queues = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  const requested: string[] = [];
  const next = (name: string) => {
    if (held.has(name)) return;
    const q = queues.get(name) ?? [];
    const start = q.shift();
    if (start) start();
  };
  return {
    requested,
    request(name, options, fn) {
      requested.push(name);
      return new Promise<void>((resolve, reject) => {
        const start = () => {
          held.add(name);
          fn().then(resolve, reject).finally(() => {
            held.delete(name);
            next(name);
          });
        };
        const q = queues.get(name) ?? [];
        queues.set(name, q);
        q.push(start);
        options.signal?.addEventListener('abort', () => {
          const i = q.indexOf(start);
          if (i >= 0) {
            q.splice(i, 1);
            reject(new DOMException('aborted', 'AbortError'));
          }
        });
        next(name);
      });
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('one sync leader per workspace across tabs', () => {
  it('the first tab leads; the second takes over only when the first lets go', async () => {
    const locks = fakeLocks();
    const led: string[] = [];
    const one = electLeader('ws-abc', () => led.push('one'), locks);
    const two = electLeader('ws-abc', () => led.push('two'), locks);
    await tick();
    expect(led).toEqual(['one']);
    one.release();
    await tick();
    expect(led).toEqual(['one', 'two']);
    two.release();
    expect(locks.requested).toEqual([leaderLockName('ws-abc'), leaderLockName('ws-abc')]);
  });

  it('a tab closed while waiting never leads, and the next one does', async () => {
    const locks = fakeLocks();
    const led: string[] = [];
    const one = electLeader('ws-abc', () => led.push('one'), locks);
    const two = electLeader('ws-abc', () => led.push('two'), locks);
    const three = electLeader('ws-abc', () => led.push('three'), locks);
    await tick();
    two.release();
    one.release();
    await tick();
    expect(led).toEqual(['one', 'three']);
    three.release();
  });

  it('other workspaces elect their own leaders', async () => {
    const locks = fakeLocks();
    const led: string[] = [];
    electLeader('ws-a', () => led.push('a'), locks);
    electLeader('ws-b', () => led.push('b'), locks);
    await tick();
    expect(led.sort()).toEqual(['a', 'b']);
  });

  it('without Web Locks (not a browser) the tab leads by itself', async () => {
    const led: string[] = [];
    electLeader('ws-abc', () => led.push('solo'), undefined);
    await tick();
    expect(led).toEqual(['solo']);
  });
});
