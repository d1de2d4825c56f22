// Relay test fixtures: people with device keys, workspaces built with the identity library and
// published through the relay, envelopes sealed at the protocol level, and a relay on 127.0.0.1:0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { WebSocket } from 'ws';
import { seal } from '../../src/crypto/aead.ts';
import { fromBase64url, randomBytes, utf8 } from '../../src/crypto/bytes.ts';
import { DOMAIN } from '../../src/crypto/domains.ts';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../src/crypto/ids.ts';
import type { DeviceSigningKey, DocumentKey, EpochKey, SigningSecretKey } from '../../src/crypto/keys.ts';
import { generateBoxKey } from '../../src/crypto/lockbox.ts';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import type { Policy, Role } from '../../src/identity/workspace/entry.ts';
import { documentKey } from '../../src/identity/workspace/epochKeys.ts';
import { buildJoin, createInvitation } from '../../src/identity/workspace/invitations.ts';
import { appendEntry } from '../../src/identity/workspace/log.ts';
import type { DeviceKeys } from '../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../src/identity/workspace/state.ts';
import { ENVELOPE_VERSION, encodeEnvelope, encodeEnvelopeHeader } from '../../src/protocol/envelope.ts';
import type { RelayLimits } from '../../relay/context.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';

/** Fixture time: the real clock at load, since the relay under test checks invitations and leases against its own clock. */
export const T0 = Date.now();
export const HOUR = 3600 * 1000;

export function device(userId: string): DeviceKeys {
  const s = generateSigningKey<DeviceSigningKey>();
  const b = generateBoxKey();
  return { userId, deviceId: deviceIdOf(s.publicKey), signingKey: s.secretKey, signingPub: s.publicKey, boxKey: b.secretKey, boxPub: b.publicKey };
}

/** A clock the test moves by hand. */
export function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (v: number) => void (t = v) };
}

export interface TestRelay {
  relay: RunningRelay;
  dir: string;
  dbPath: string;
  restart(): Promise<RunningRelay>;
  stop(): Promise<void>;
}

export async function startTestRelay(opts: { now?: () => number; limits?: Partial<RelayLimits>; dir?: string } = {}): Promise<TestRelay> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'cloister-relay-'));
  const dbPath = join(dir, 'relay.sqlite');
  const start = () =>
    startRelay({
      store: new SqliteStore(dbPath), port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }),
      ...(opts.now ? { now: opts.now } : {}), ...(opts.limits ? { limits: opts.limits } : {}),
    });
  const t: TestRelay = {
    relay: await start(),
    dir,
    dbPath,
    async restart() {
      await t.relay.close();
      t.relay = await start();
      return t.relay;
    },
    async stop() {
      await t.relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export function connect(relay: RunningRelay, d: DeviceKeys, workspaces: string[] = []): Promise<RelayClient> {
  return RelayClient.connect({ url: relay.url, signingKey: d.signingKey, devicePub: d.signingPub, workspaces, WebSocket: WebSocket as never });
}

/** A workspace founded by `admin`, published to the relay, with `others` invited and joined through it. */
export interface TestWorkspace {
  workspaceId: string;
  state: WorkspaceState;
  epochKey: EpochKey;
}

export async function publishWorkspace(
  relay: RunningRelay, admin: DeviceKeys, others: { d: DeviceKeys; role: Role }[] = [], policy?: Policy, now = Date.now(),
): Promise<TestWorkspace> {
  const created = createWorkspace(admin, 'Team', { now, ...(policy ? { policy } : {}) });
  const ws = created.workspaceId;
  const a = await connect(relay, admin);
  await a.appendLog(ws, created.root);
  let state = created.state;
  noteRoot(state);
  for (const o of others) {
    const inv = createInvitation(state, admin, created.epochKey, { role: o.role, expiresAt: now + 24 * HOUR, now });
    await a.appendLog(ws, inv.entry.bytes);
    state = apply(state, inv.entry.bytes, now);
    // The joiner is not a member yet: it reads the log through the relay and appends its join there.
    const j = await connect(relay, o.d);
    const replayed = (await import('../../src/identity/workspace/log.ts')).replayLog(await j.getLog(ws));
    if (!replayed.ok) throw new Error(replayed.reason);
    const join = buildJoin(replayed.value, inv.code, o.d, now);
    if (!join.ok) throw new Error(join.reason);
    await j.appendLog(ws, join.value.entry.bytes);
    state = apply(state, join.value.entry.bytes, now);
    j.close();
  }
  a.close();
  return { workspaceId: ws, state, epochKey: created.epochKey };
}

export function apply(state: WorkspaceState, bytes: Uint8Array, now = T0): WorkspaceState {
  const r = appendEntry(state, bytes, now);
  if (!r.ok) throw new Error(`append rejected: ${r.reason}`);
  noteRoot(r.value);
  return r.value;
}

export interface EnvOpts {
  workspaceId: string;
  docId?: string;
  seq: number;
  leaseId: string;
  epochKey?: EpochKey;
  plaintext?: Uint8Array;
  signer?: DeviceKeys;
  epoch?: number;
  /** The membership-log position the header names; default: index 0, the workspace's root entry (on the relay once published). */
  logIndex?: number;
  logHead?: Uint8Array;
}

/** Root entry id of each workspace these helpers created or applied an entry to: the default log position of envelope(). */
const rootIds = new Map<string, string>();
const noteRoot = (state: WorkspaceState): void => {
  if (state.order[0] !== undefined) rootIds.set(state.workspaceId, state.order[0]);
};

/** The log position an envelope names: `o`'s, or index 0 with the workspace's root entry. */
export function logPositionOf(o: { workspaceId: string; logIndex?: number; logHead?: Uint8Array }): { logIndex: number; logHead: Uint8Array } {
  const root = rootIds.get(o.workspaceId);
  return { logIndex: o.logIndex ?? 0, logHead: o.logHead ?? (root !== undefined ? fromBase64url(root)! : new Uint8Array(32)) };
}

/** A change envelope from `d`, sealed under the document key (or a random one) and signed by `signer` (default `d`). */
export function envelope(d: DeviceKeys, o: EnvOpts): Uint8Array {
  const docId = o.docId ?? 'doc-1';
  const headerBytes = encodeEnvelopeHeader({
    version: ENVELOPE_VERSION, workspaceId: o.workspaceId, docId, deviceId: d.deviceId, epoch: o.epoch ?? 0, seq: o.seq,
    leaseId: o.leaseId, claimedTime: T0, sessionNonce: new Uint8Array(16).fill(1), ...logPositionOf(o),
  });
  const key: DocumentKey = o.epochKey ? documentKey(o.epochKey, docId) : (randomBytes(32) as DocumentKey);
  const sealed = seal(key, o.plaintext ?? utf8(`change ${o.seq}`), DOMAIN.envelopeBody, headerBytes);
  return encodeEnvelope(headerBytes, sealed, (o.signer ?? d).signingKey);
}

export function leaseIdOf(c: RelayClient, workspaceId: string): string {
  const l = c.leases.get(workspaceId);
  if (!l) throw new Error('no lease');
  return l.lease.leaseId;
}

/** The relay's signing key, read from its store: for tests that must show a check beyond the reply signature. */
export async function relayKeyOf(t: TestRelay): Promise<SigningSecretKey> {
  const store = new SqliteStore(t.dbPath);
  try {
    return (await store.getOrCreateRelayKey(() => {
      throw new Error('the relay has no key yet');
    })) as SigningSecretKey;
  } finally {
    await store.close();
  }
}

/**
 * A fresh relay for each test of the calling describe (`env.t`), and `open` to connect clients that are
 * closed, with the relay, after each test.
 */
export function relayPerTest(): { readonly t: TestRelay; open: (...args: Parameters<typeof connect>) => Promise<RelayClient> } {
  let current: TestRelay | undefined;
  const clients: RelayClient[] = [];
  beforeEach(async () => {
    current = await startTestRelay();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await current?.stop();
  });
  return {
    get t() {
      if (!current) throw new Error('relayPerTest: no relay outside a test');
      return current;
    },
    async open(...args) {
      const c = await connect(...args);
      clients.push(c);
      return c;
    },
  };
}

/** Poll `cond` every 20 ms until it holds; throw after `ms` (for effects of the relay's own timers, e.g. pruning). */
export const until = async (cond: () => Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};
