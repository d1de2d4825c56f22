// Apply remote envelopes to a document so that changes Automerge refuses never stay in it (DESIGN →
// Hostile change bytes). Automerge 3.5 can panic inside wasm part-way through applyChanges (e.g. a
// change whose seq was rewritten and its checksum fixed): the document is then half-applied and its
// save() no longer loads. So: keep the last good state (a clone, taken before the batch), and when
// the batch throws or leaves a document that does not load back, restore it and find the culprits by
// bisection, each group applied on a known-good state. Cost: one clone per batch when all is well;
// O(culprits × log(envelopes)) clones and applies otherwise.
import * as A from '@automerge/automerge';
import type { DocHandle } from '@automerge/automerge-repo';
import { changeHashOf } from './envelope/changeHash.ts';
import { readChangeDeps } from './envelope/changeHeader.ts';

/**
 * Up to this many changes, every applied batch is proven to load back (A.load(A.save(doc)): 20–110 ms
 * at 1,000 changes on a loaded 2-core machine, growing with history). Larger documents are checked in
 * full only after Automerge threw in the batch: a save that does not load back comes from a
 * half-applied change, and a batch that did not throw leaves none (one that threw is restored from
 * the clone before anything is saved).
 */
export const FULL_LOAD_CHECK_MAX_CHANGES = 1_000;

export interface Applicable {
  changes: Uint8Array[];
}

export interface ContainedResult<E> {
  /** Applied (or queued by Automerge for missing dependencies), in application order. */
  kept: E[];
  refused: { env: E; detail: string }[];
  /** Did Automerge throw (or leave an unloadable document) at any point? */
  contained: boolean;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);

/**
 * Free a document this module made and no longer needs. Left to Automerge's FinalizationRegistry, such
 * garbage outlives a whole synchronous apply loop (finalizers run only between tasks): at a cold join of
 * n documents, V8 then keeps collecting under external-memory pressure a heap that grows with n, so
 * each document cost O(n) (1,000 records: applyContained 1.6 ms a record; 2,000: 8.3 ms).
 */
function release(doc: A.Doc<unknown>): void {
  try {
    A.free(doc);
  } catch {
    // Already unusable (e.g. after a wasm panic): the finalizer is no worse.
  }
}

/** Does `A.save(doc)` load back? Undefined if so, else Automerge's error. */
export function loadBackError(doc: A.Doc<unknown>): string | undefined {
  try {
    release(A.load(A.save(doc)));
    return undefined;
  } catch (e) {
    return message(e);
  }
}

/** Apply `envs` to `handle`; every envelope ends up kept or refused, and the handle never keeps a poisoned document. */
export function applyContained<E extends Applicable>(handle: DocHandle<unknown>, envs: readonly E[], actor: string): ContainedResult<E> {
  if (envs.length === 0) return { kept: [], refused: [], contained: false };
  const before = A.clone(handle.doc() as A.Doc<unknown>, { actor });
  try {
    return applyOrBisect(handle, envs, actor, before);
  } finally {
    release(before);
  }
}

function applyOrBisect<E extends Applicable>(handle: DocHandle<unknown>, envs: readonly E[], actor: string, before: A.Doc<unknown>): ContainedResult<E> {
  // Restoring clones `doc` into the handle: the caller still owns (and frees) `doc`.
  const restore = (doc: A.Doc<unknown>) => handle.update(() => A.clone(doc, { actor }));
  const attempt = (group: readonly E[]): string | undefined => {
    try {
      handle.update(d => A.applyChanges(d as A.Doc<unknown>, group.flatMap(e => e.changes))[0]);
      return undefined;
    } catch (e) {
      return message(e) || 'applyChanges threw';
    }
  };
  const first = attempt(envs);
  if (first === undefined) {
    const doc = handle.doc() as A.Doc<unknown>;
    if (A.stats(doc).numChanges > FULL_LOAD_CHECK_MAX_CHANGES) return { kept: [...envs], refused: [], contained: false };
    const err = loadBackError(doc);
    if (err === undefined) return { kept: [...envs], refused: [], contained: false };
  }
  // Start again from the last good state, without Automerge's queue of changes waiting for
  // dependencies (it isn't saved; held envelopes are in the pending store and retried with the batch).
  const base = A.load<unknown>(A.save(before), { actor });
  const ordered = dependencyOrder(envs);
  try {
    for (const verifyEach of [false, true]) {
      restore(base);
      const kept: E[] = [];
      const refused: { env: E; detail: string }[] = [];
      const bisect = (group: readonly E[]): void => {
        if (group.length === 0) return;
        const good = A.clone(handle.doc() as A.Doc<unknown>, { actor });
        let err: string | undefined;
        try {
          err = attempt(group) ?? (verifyEach ? loadBackError(handle.doc() as A.Doc<unknown>) : undefined);
          if (err !== undefined) restore(good);
        } finally {
          release(good);
        }
        if (err === undefined) {
          kept.push(...group);
          return;
        }
        if (group.length === 1) {
          refused.push({ env: group[0]!, detail: err });
          return;
        }
        const mid = group.length >> 1;
        bisect(group.slice(0, mid));
        bisect(group.slice(mid));
      };
      bisect(ordered);
      // Automerge threw somewhere in this wasm instance: prove what is kept loads back before it is saved.
      if (verifyEach || loadBackError(handle.doc() as A.Doc<unknown>) === undefined) return { kept, refused, contained: true };
    }
  } finally {
    release(base);
  }
  throw new Error('unreachable: the verified pass always returns');
}

/**
 * Envelopes ordered so that each comes after those holding its changes' dependencies (stable
 * otherwise). Applied in this order, a change Automerge queued never lands while bisecting another
 * group, so a panic is blamed on the envelope whose change caused it.
 */
function dependencyOrder<E extends Applicable>(envs: readonly E[]): E[] {
  const owner = new Map<string, number>();
  envs.forEach((e, i) => e.changes.forEach(c => owner.set(changeHashOf(c), i)));
  const needs = envs.map((e, i) => {
    const s = new Set<number>();
    for (const c of e.changes) for (const d of readChangeDeps(c) ?? []) {
      const o = owner.get(d);
      if (o !== undefined && o !== i) s.add(o);
    }
    return s;
  });
  const out: E[] = [];
  const state = new Uint8Array(envs.length); // 0 new, 1 visiting, 2 done
  const visit = (i: number): void => {
    if (state[i] !== 0) return; // a cycle (only hostile bytes make one) keeps the given order
    state[i] = 1;
    for (const j of needs[i]!) visit(j);
    state[i] = 2;
    out.push(envs[i]!);
  };
  for (let i = 0; i < envs.length; i++) visit(i);
  return out;
}
