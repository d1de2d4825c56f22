// The client half of the membership chain (DESIGN → Membership log): bring our copy up to the
// relay's head, accepting only links countersigned by the pinned relay key and valid at their
// index; detect a fork (the relay shows another entry at an index we hold, or a shorter chain);
// and append an entry at the head, rebuilding it when the relay answers that the head moved.
import { equalBytes, toBase64url } from '../../crypto/bytes.ts';
import type { BoxSecretKey, EpochKey, PublicKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { decodeLink, verifyCountersig } from '../../identity/workspace/chainLink.ts';
import { openEpochKeys } from '../../identity/workspace/epochKeys.ts';
import { appendLink, linkAt, replayLog } from '../../identity/workspace/log.ts';
import { describeRejection, WORKSPACE_REJECTIONS, type WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { RelayRequestError, type RelayClient } from './relayClient.ts';

/** Two countersigned entries for one index (or a relay whose chain lost entries we hold): kept as evidence. */
export interface ForkEvidence {
  index: number;
  /** Our link at `index` (base64url). */
  ours: string;
  /** The relay's link at `index` (base64url), or '' when the relay's chain no longer reaches it. */
  theirs: string;
  detail: string;
  detectedAt: number;
}

/** The relay broke the chain's promises: a person must look; syncing this workspace stops. */
export class ChainFault extends Error {
  constructor(
    readonly code: 'log_fork' | 'log_invalid',
    message: string,
    readonly evidence?: ForkEvidence,
  ) {
    super(message);
    this.name = 'ChainFault';
  }
}

export interface PulledChain {
  /** Undefined only when we had nothing and the relay has no such workspace. */
  state: WorkspaceState | undefined;
  received: number;
  /** The relay has no log for this workspace. */
  unknown: boolean;
}

const why = (r: { reason: string; detail?: string }) => `${r.reason}${r.detail ? ` (${r.detail})` : ''}`;

/** A fork: the relay countersigned `theirs` at an index where we hold another countersigned entry. */
function forkAt(state: WorkspaceState, index: number, theirs: Uint8Array | undefined, detail: string, now: number): ChainFault {
  const evidence: ForkEvidence = { index, ours: toBase64url(state.links[index]!), theirs: theirs ? toBase64url(theirs) : '', detail, detectedAt: now };
  return new ChainFault('log_fork', `the relay forked the membership log at index ${index}: ${detail}; syncing this workspace has stopped (see \`cloister status\`)`, evidence);
}

/**
 * Extend `local` with the relay's links. Reads from our last index, so the relay must show the
 * same entry there. Throws ChainFault when it doesn't, or when it countersigned something invalid.
 */
export async function pullChain(client: RelayClient, workspaceId: string, local: WorkspaceState | undefined, relayPub: PublicKey, now: number): Promise<PulledChain> {
  const len = local?.order.length ?? 0;
  let links: Uint8Array[];
  try {
    links = await client.getLog(workspaceId, Math.max(0, len - 1));
  } catch (e) {
    if (e instanceof RelayRequestError && e.code === 'unknown_workspace') {
      // Ours is countersigned, so this relay once held it: its chain is gone.
      if (local && linkAt(local, 0)?.countersig) throw forkAt(local, 0, undefined, 'the relay no longer has this workspace', now);
      return { state: local, received: 0, unknown: true };
    }
    throw e;
  }
  if (!local || len === 0) {
    const st = replayLog(links, { relayPub });
    if (!st.ok) throw new ChainFault('log_invalid', `the relay sent a membership log that does not replay: ${why(st)}`);
    if (st.value.workspaceId !== workspaceId) throw new ChainFault('log_invalid', 'the relay sent the log of another workspace');
    return { state: st.value, received: links.length, unknown: false };
  }
  const first = links[0];
  if (!first) throw forkAt(local, len - 1, undefined, `the relay's log is shorter than ours (it lacks index ${len - 1})`, now);
  const theirs = decodeLink(first);
  if (!theirs.ok || !theirs.value.countersig || !verifyCountersig(relayPub, theirs.value.entry, theirs.value.countersig))
    throw new ChainFault('log_invalid', `the relay's link at index ${len - 1} is not countersigned by the pinned relay key`);
  let state = local;
  const ours = linkAt(local, len - 1)!;
  if (theirs.value.entry.id !== ours.entry.id) throw forkAt(local, len - 1, first, 'two different entries are countersigned for one index', now);
  if (!ours.countersig || !equalBytes(ours.bytes, first)) {
    // Our own unpublished root, now countersigned: keep the relay's link for it.
    if (len !== 1) throw new ChainFault('log_invalid', `our link at index ${len - 1} differs from the relay's`);
    const st = replayLog([first], { relayPub });
    if (!st.ok) throw new ChainFault('log_invalid', `the relay's root does not replay: ${why(st)}`);
    state = st.value;
  }
  for (const link of links.slice(1)) {
    const next = appendLink(state, link, undefined, relayPub);
    if (!next.ok) throw new ChainFault('log_invalid', `the relay countersigned a log entry that is not valid at index ${state.order.length}: ${why(next)}`);
    state = next.value;
  }
  return { state, received: links.length - 1, unknown: false };
}

/** Why an append was refused: the identity library's code, or 'relay_refused' for a reason it doesn't know. */
export type AppendFailure = WorkspaceRejection | 'relay_refused';

/**
 * Append the entry `build` makes on the current head, rebuilding it on the new head each time the
 * relay answers `log_stale` (at most `tries` times). Refusals come back with the identity
 * library's reason code; transport failures throw.
 */
export async function appendAtHead(
  client: RelayClient,
  workspaceId: string,
  state: WorkspaceState,
  relayPub: PublicKey,
  build: (state: WorkspaceState, now: number) => Result<Uint8Array, WorkspaceRejection>,
  now: () => number,
  tries = 5,
): Promise<Result<{ state: WorkspaceState; index: number }, AppendFailure>> {
  for (let attempt = 0; ; attempt++) {
    const at = now();
    const built = build(state, at);
    if (!built.ok) return fail(built.reason, built.detail);
    try {
      const r = await client.appendLog(workspaceId, built.value);
      const next = appendLink(state, r.link, undefined, relayPub);
      if (!next.ok) throw new ChainFault('log_invalid', `the relay's countersigned link for our entry is not valid: ${why(next)}`);
      return ok({ state: next.value, index: r.index });
    } catch (e) {
      if (!(e instanceof RelayRequestError)) throw e;
      if (e.code === 'log_stale' && attempt + 1 < tries) {
        state = (await pullChain(client, workspaceId, state, relayPub, now())).state ?? state;
        continue;
      }
      if (e.code === 'log_rejected' && /entry_time_skew/.test(e.message) && attempt + 1 < tries) {
        await client.ping(); // our estimate of the relay's clock was off: read it again and rebuild
        continue;
      }
      if (e.code === 'log_rejected' || e.code === 'log_stale') {
        const text = e.message.replace(/^[a-z_]+: /, '');
        const code = /^[a-z0-9_]+/.exec(text)?.[0] ?? '';
        return Object.hasOwn(WORKSPACE_REJECTIONS, code) ? fail(code as WorkspaceRejection, text.slice(code.length).replace(/^: /, '') || undefined) : fail('relay_refused', text);
      }
      throw e;
    }
  }
}

/** One line for a refusal: the words and the code. */
export const describeAppendFailure = (f: { reason: AppendFailure; detail?: string }): string =>
  f.reason === 'relay_refused' ? `the relay refused it: ${f.detail ?? ''}` : `${describeRejection(f.reason)} (${f.reason}${f.detail ? `: ${f.detail}` : ''})`;

/** Every epoch key this device can open in `state`, plus those it already held. */
export function collectEpochKeys(state: WorkspaceState, deviceId: string, boxKey: BoxSecretKey, held: ReadonlyMap<number, EpochKey>): Map<number, EpochKey> {
  const keys = new Map(held);
  const opened = openEpochKeys(state, deviceId, boxKey);
  if (opened.ok) for (const [e, k] of opened.value) keys.set(e, k);
  return keys;
}

/**
 * Of two copies of one chain (say, saved by two processes of a profile), the longer, if the other
 * is a prefix of it; undefined if they differ at some index (a fork, which pullChain reports).
 */
export function longerChain(a: WorkspaceState, b: WorkspaceState): WorkspaceState | undefined {
  const [short, long] = a.order.length <= b.order.length ? [a, b] : [b, a];
  for (let i = 0; i < short.order.length; i++) if (short.order[i] !== long.order[i]) return undefined;
  // Prefer countersigned links where one copy still has the unpublished root.
  if (short.order.length === long.order.length && !linkAt(long, 0)?.countersig) return short;
  return long;
}
