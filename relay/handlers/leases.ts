// Issue a relay-signed lease to an active device of a workspace (DESIGN → Offline leases).
import { randomNonce, toBase64url } from '../../src/crypto/bytes.ts';
import { encodeLease } from '../../src/protocol/lease.ts';
import type { RelayContext } from '../context.ts';

/** A fresh signed lease, or undefined when the workspace is unknown or the device not active (revoked devices get none). */
export async function issueLease(ctx: RelayContext, workspaceId: string, deviceId: string): Promise<Uint8Array | undefined> {
  const state = await ctx.workspaces.state(workspaceId);
  if (state === undefined || !ctx.model.isActiveDevice(state, deviceId)) return undefined;
  const issuedAt = ctx.now();
  const lease = {
    leaseId: toBase64url(randomNonce(16)),
    relayId: ctx.relayId,
    workspaceId,
    deviceId,
    issuedAt,
    notAfter: issuedAt + ctx.model.policy(state).maxOfflineMs,
  };
  const bytes = encodeLease(lease, ctx.relayKey);
  await ctx.store.putLease({ leaseId: lease.leaseId, workspaceId, deviceId, issuedAt, notAfter: lease.notAfter, bytes });
  return bytes;
}
