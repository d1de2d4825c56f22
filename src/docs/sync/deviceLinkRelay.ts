// The relay side of device linking, shared by the new device (linkThisDevice.ts) and the approver
// (approveDeviceLink.ts): connect as this device, and wait for a mailbox step by polling (the relay
// keeps each step in a write-once slot until the mailbox expires). Failures are results, never throws.
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { openLinkMessage, type LinkMailbox, type LinkMessage, type LinkStep } from '../../identity/workspace/deviceLinkMailbox.ts';
import { describeRejection } from '../../identity/workspace/rejections.ts';
import { RelayClient, RelayRequestError, type RelayClientOptions } from './relayClient.ts';

/**
 * Stable reasons a link or an approval fails (docs/DEVICES.md lists them in words).
 */
export const LINK_FAILURES = {
  link_code_invalid: 'that is not a device-link code (26 letters and digits, as `cloister device link` printed it)',
  link_code_unknown: 'no link request for this code at this relay: the code is wrong, or it expired (codes last 10 minutes)',
  link_code_used: 'this link code was already used',
  link_timeout: 'the other device did not answer in time',
  link_refused: 'the link was refused',
  link_no_workspace: 'this device has no workspace it can add a device to',
  link_cancelled: 'the link was cancelled on this device',
  relay_unreachable: 'cannot reach the relay',
  storage_unavailable: 'local storage is unavailable',
} as const;
export type LinkFailure = keyof typeof LINK_FAILURES;

export interface LinkRelayOptions {
  /** How often to look for the other device's step (ms). */
  pollMs?: number;
  WebSocketImpl?: RelayClientOptions['WebSocket'];
  now?: () => number;
  /** Stops waiting for the other device (a Cancel button): the wait ends with `link_cancelled`. */
  signal?: AbortSignal;
}

export const DEFAULT_POLL_MS = 500;

export async function connectAs(vault: UnlockedVault, url: string, o: LinkRelayOptions = {}): Promise<Result<RelayClient, LinkFailure>> {
  const keys = deviceKeysOfVault(vault);
  try {
    return ok(await RelayClient.connect({ url, signingKey: keys.signingKey, devicePub: keys.signingPub, ...(o.WebSocketImpl ? { WebSocket: o.WebSocketImpl } : {}) }));
  } catch (e) {
    return fail('relay_unreachable', `cannot reach the relay at ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Wait `ms`, or less if `signal` aborts meanwhile. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Group a code in fives for reading aloud and copying; `approve` ignores the dashes. */
export const groupLinkCode = (code: string): string => code.match(/.{1,5}/g)?.join('-') ?? code;

/** Poll a mailbox slot until it holds an item that opens under the code, or the deadline passes. */
export async function waitForStep<S extends LinkStep>(
  client: RelayClient,
  mb: LinkMailbox,
  step: S,
  deadline: number,
  o: LinkRelayOptions = {},
): Promise<Result<LinkMessage<S>, LinkFailure>> {
  const now = o.now ?? Date.now;
  const pollMs = o.pollMs ?? DEFAULT_POLL_MS;
  for (;;) {
    if (o.signal?.aborted) return fail('link_cancelled');
    let data: Uint8Array | undefined;
    try {
      data = await client.getMailbox(mb.boxId, step);
    } catch (e) {
      if (!(e instanceof RelayRequestError && e.code === 'rate_limited')) return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
    }
    if (data) {
      const m = openLinkMessage(mb, step, data);
      // Whatever sits in the slot was not sealed with this code: the relay (or someone) altered it.
      if (!m.ok) return fail('link_refused', `${describeRejection(m.reason)} (${m.reason})`);
      return ok(m.value);
    }
    if (now() >= deadline) return fail('link_timeout', `no ${step} from the other device in time`);
    await sleep(pollMs, o.signal);
  }
}

/** One line for a person: the reason in words plus the detail, if any. */
export function describeLinkFailure(f: { reason: LinkFailure; detail?: string }): string {
  return f.detail && f.reason !== 'relay_unreachable' ? `${LINK_FAILURES[f.reason]}: ${f.detail} (${f.reason})` : `${f.detail ?? LINK_FAILURES[f.reason]} (${f.reason})`;
}
