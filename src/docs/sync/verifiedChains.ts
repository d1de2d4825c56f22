// Replaying a stored membership chain verifies every link's signatures and validity from the root,
// which every sync pass did twice over a chain that rarely changes. This remembers the replayed state
// of chains already verified in this process, keyed by their head link, and reuses it only for a
// byte-identical chain: any new or different link is verified by a full replay (never skipped).
import { equalBytes, toBase64url } from '../../crypto/bytes.ts';
import type { Result } from '../../crypto/result.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import type { WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';

interface Verified {
  links: readonly Uint8Array[];
  state: WorkspaceState;
}

/** A few chains at most are open in one process (one per open workspace); oldest dropped first. */
const MAX_CHAINS = 16;
const cache = new Map<string, Verified>();

const keyOf = (links: readonly Uint8Array[]): string => `${links.length}:${toBase64url(links[links.length - 1]!)}`;

const sameLinks = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length === b.length && a.every((l, i) => l === b[i] || equalBytes(l, b[i]!));

/** replayLog(links) of a stored chain (no relay key: as the workspace store keeps it), from memory when these exact links were verified before. */
export function replayStoredChain(links: readonly Uint8Array[]): Result<WorkspaceState, WorkspaceRejection> {
  if (links.length === 0) return replayLog(links);
  const key = keyOf(links);
  const hit = cache.get(key);
  if (hit && sameLinks(hit.links, links)) return { ok: true, value: hit.state };
  const r = replayLog(links);
  if (r.ok) {
    cache.delete(key);
    cache.set(key, { links: [...links], state: r.value });
    while (cache.size > MAX_CHAINS) cache.delete(cache.keys().next().value!);
  }
  return r;
}

/** For tests: how many chains are remembered. */
export const verifiedChainCount = (): number => cache.size;
