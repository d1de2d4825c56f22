// Link a device from the web app, the same exchange as `cloister device link` / `device approve`
// (docs/DEVICES.md): this browser can ask to be linked (it shows a one-time code and waits), or approve
// a new device of yours by its code. A linked browser then works in your workspaces as you.
import { useEffect, useRef, useState, type FormEvent, type MouseEvent } from 'react';
import { approveDeviceLink, type Approved } from '../../docs/sync/approveDeviceLink.ts';
import { describeLinkFailure, groupLinkCode, type LinkFailure } from '../../docs/sync/deviceLinkRelay.ts';
import { linkThisDevice, type LinkResult } from '../../docs/sync/linkThisDevice.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { browserDeviceLinkStore } from './browserDeviceLink.ts';
import './link.css';

export interface LinkDeviceProps {
  vault: UnlockedVault;
  /** The relay the new browser asks through (usually the one that served this page). */
  defaultRelayUrl: string;
  /** Called with the workspaces this browser was linked into (at least one). */
  onLinked(workspaceIds: string[]): void;
  onClose(): void;
}

type LinkState =
  | { step: 'idle' }
  | { step: 'asking' }
  | { step: 'waiting'; code: string; expiresAt: number }
  | { step: 'enrolling'; code: string; names: string[] }
  | { step: 'linked'; result: LinkResult }
  | { step: 'failed'; line: string };

type ApproveState =
  | { step: 'idle' }
  | { step: 'finding' }
  | { step: 'approving'; deviceId: string }
  | { step: 'done'; result: Approved }
  | { step: 'failed'; line: string };

const RELAY_URL = /^wss?:\/\/[^\s/]+/;
const failureLine = (f: { reason: LinkFailure; detail?: string }) => describeLinkFailure(f);
const minutesLeft = (expiresAt: number) => Math.max(1, Math.round((expiresAt - Date.now()) / 60_000));

export function LinkDevice({ vault, defaultRelayUrl, onLinked, onClose }: LinkDeviceProps) {
  return (
    <section className="link-device" data-testid="link-device" aria-labelledby="link-device-heading">
      <h2 id="link-device-heading" tabIndex={-1}>
        Link a device
      </h2>
      <p className="link-intro">
        Each device keeps its own keys. Linking adds a device to every workspace you are in, signed by a device you already have, and gives it
        the keys to read them. Whoever types the code adds the device: treat it like a password for its 10 minutes.
      </p>
      <div className="link-halves">
        <LinkThisBrowser vault={vault} defaultRelayUrl={defaultRelayUrl} onLinked={onLinked} />
        <ApproveDevice vault={vault} />
      </div>
      <div className="actions">
        <button type="button" onClick={onClose} data-testid="link-close">
          Close
        </button>
      </div>
    </section>
  );
}

function LinkThisBrowser({ vault, defaultRelayUrl, onLinked }: Pick<LinkDeviceProps, 'vault' | 'defaultRelayUrl' | 'onLinked'>) {
  const [relayUrl, setRelayUrl] = useState(defaultRelayUrl);
  const [state, setState] = useState<LinkState>({ step: 'idle' });
  const [copied, setCopied] = useState('');
  const abort = useRef<AbortController | undefined>(undefined);
  const copyButton = useRef<HTMLButtonElement>(null);
  const startButton = useRef<HTMLButtonElement>(null);
  // Leaving the panel stops the wait (the relay forgets the request when the code expires).
  useEffect(() => () => abort.current?.abort(), []);
  // The button pressed goes away while waiting: keep the keyboard on the code's Copy, then back on the start.
  const code = state.step === 'waiting' ? state.code : undefined;
  useEffect(() => {
    if (code) copyButton.current?.focus();
  }, [code]);
  const settled = state.step === 'idle' || state.step === 'failed' || state.step === 'linked';
  const wasBusy = useRef(false);
  useEffect(() => {
    if (settled && wasBusy.current && !startButton.current?.contains(document.activeElement)) startButton.current?.focus();
    wasBusy.current = !settled;
  }, [settled]);

  async function start(e: FormEvent) {
    e.preventDefault();
    const relay = relayUrl.trim();
    if (!RELAY_URL.test(relay)) return setState({ step: 'failed', line: `the relay must look like ws://HOST:PORT, got ${relay || 'nothing'}` });
    const ctl = new AbortController();
    abort.current = ctl;
    setCopied('');
    setState({ step: 'asking' });
    let r;
    try {
      r = await linkThisDevice({
        store: browserDeviceLinkStore(vault),
        vault,
        relayUrl: relay,
        signal: ctl.signal,
        onCode: (code, ttl) => setState({ step: 'waiting', code: groupLinkCode(code), expiresAt: Date.now() + ttl }),
        onOffer: (offer) => setState((s) => ({ step: 'enrolling', code: 'code' in s ? s.code : '', names: offer.workspaces.map((w) => w.name) })),
      });
    } catch (err) {
      r = { ok: false as const, reason: 'relay_unreachable' as const, detail: err instanceof Error ? err.message : String(err) };
    }
    if (abort.current === ctl) abort.current = undefined;
    if (!r.ok) {
      if (r.reason === 'link_cancelled') return setState({ step: 'idle' });
      return setState({ step: 'failed', line: failureLine(r) });
    }
    setState({ step: 'linked', result: r.value });
    if (r.value.workspaces.length > 0) onLinked(r.value.workspaces.map((w) => w.workspaceId));
  }

  function cancel(e: MouseEvent) {
    e.preventDefault();
    abort.current?.abort();
  }

  async function copy(code: string) {
    try {
      await navigator.clipboard.writeText(code);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is not allowed here: select the code and copy it.');
    }
  }

  const busy = state.step === 'asking' || state.step === 'waiting' || state.step === 'enrolling';
  return (
    <form className="link-half" onSubmit={start} aria-labelledby="link-this-heading">
      <h3 id="link-this-heading">Link this browser to your account</h3>
      <p>
        On a new browser: show a code here, then type it on a device that already has your workspaces (<em>Approve a new device</em> there, or{' '}
        <code>cloister device approve CODE</code>).
      </p>
      <label>
        Relay
        <input data-testid="link-relay" value={relayUrl} onChange={(e) => setRelayUrl(e.target.value)} disabled={busy} spellCheck={false} />
      </label>
      {(state.step === 'waiting' || state.step === 'enrolling') && (
        <div className="link-code-box">
          <span id="link-code-label">One-time code</span>
          <output className="link-code" data-testid="link-code" aria-labelledby="link-code-label">
            {state.code}
          </output>
          <button type="button" ref={copyButton} onClick={() => void copy(state.code)} data-testid="link-copy">
            Copy
          </button>
          {copied && <span role="status">{copied}</span>}
        </div>
      )}
      <p className={state.step === 'failed' ? 'error' : 'link-status'} data-testid="link-status" role={state.step === 'failed' ? 'alert' : 'status'}>
        {linkStatusText(state)}
      </p>
      {state.step === 'linked' && state.result.refused.length > 0 && (
        <ul className="link-refused">
          {state.result.refused.map((x) => (
            <li key={x.workspaceId}>
              not linked: {x.workspaceId}: {x.reason}
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        {busy ? (
          // Own keys: React must not turn this very button into the submit one while its click is being handled,
          // or the click's default action would submit the form and ask for a new code.
          <button key="cancel" type="button" onClick={cancel} data-testid="link-cancel" disabled={state.step === 'enrolling'}>
            Cancel
          </button>
        ) : (
          <button key="start" type="submit" ref={startButton} data-testid="link-start">
            {state.step === 'idle' ? 'Show a code' : 'Show a new code'}
          </button>
        )}
      </div>
    </form>
  );
}

function linkStatusText(s: LinkState): string {
  switch (s.step) {
    case 'idle':
      return '';
    case 'asking':
      return 'Asking the relay for a code…';
    case 'waiting':
      return `Waiting for the approval on your other device. The code works once, for ${minutesLeft(s.expiresAt)} minutes.`;
    case 'enrolling':
      return `Approved for ${s.names.join(', ') || 'no workspace'}; enrolling this browser…`;
    case 'linked': {
      const { workspaces, refused } = s.result;
      if (workspaces.length === 0) return `Nothing was linked: the approval was refused for every workspace (link_refused).`;
      const names = workspaces.map((w) => w.name).join(', ');
      return `Linked: ${names}. This browser now works in ${workspaces.length === 1 ? 'it' : 'them'} as you${refused.length ? `; ${refused.length} not linked` : ''}.`;
    }
    case 'failed':
      return s.line;
  }
}

function ApproveDevice({ vault }: Pick<LinkDeviceProps, 'vault'>) {
  const [code, setCode] = useState('');
  const [state, setState] = useState<ApproveState>({ step: 'idle' });
  const abort = useRef<AbortController | undefined>(undefined);
  const codeInput = useRef<HTMLInputElement>(null);
  useEffect(() => () => abort.current?.abort(), []);
  // The input is disabled while approving (which drops the focus); give it back for the next code.
  const settled = state.step === 'done' || state.step === 'failed';
  useEffect(() => {
    if (settled) codeInput.current?.focus();
  }, [settled]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const ctl = new AbortController();
    abort.current = ctl;
    setState({ step: 'finding' });
    let r;
    try {
      r = await approveDeviceLink({
        store: browserDeviceLinkStore(vault),
        vault,
        code: code.trim(),
        signal: ctl.signal,
        onRequest: (deviceId) => setState({ step: 'approving', deviceId }),
      });
    } catch (err) {
      r = { ok: false as const, reason: 'relay_unreachable' as const, detail: err instanceof Error ? err.message : String(err) };
    }
    if (abort.current === ctl) abort.current = undefined;
    if (!r.ok) return setState(r.reason === 'link_cancelled' ? { step: 'idle' } : { step: 'failed', line: failureLine(r) });
    setCode('');
    setState({ step: 'done', result: r.value });
  }

  const busy = state.step === 'finding' || state.step === 'approving';
  return (
    <form className="link-half" onSubmit={submit} aria-labelledby="approve-heading">
      <h3 id="approve-heading">Approve a new device</h3>
      <p>
        On this device, which already has your workspaces: type the code the new device shows (in its <em>Link this browser</em> panel, or from{' '}
        <code>cloister device link</code>).
      </p>
      <label>
        Code shown on the new device
        <input
          data-testid="approve-code"
          ref={codeInput}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="characters"
          disabled={busy}
          placeholder="XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-X"
        />
      </label>
      <div className="actions">
        <button type="submit" data-testid="approve-submit" disabled={busy || !code.trim()}>
          {busy ? 'Approving…' : 'Approve'}
        </button>
        {busy && (
          <button type="button" onClick={() => abort.current?.abort()} data-testid="approve-cancel">
            Cancel
          </button>
        )}
      </div>
      <div data-testid="approve-result" className={state.step === 'failed' ? 'error' : 'link-status'} role={state.step === 'failed' ? 'alert' : 'status'}>
        {state.step === 'finding' && <p>Looking for the new device’s request and bringing your workspaces up to date…</p>}
        {state.step === 'approving' && <p>Device {state.deviceId} asks to be linked; waiting for it to enrol…</p>}
        {state.step === 'failed' && <p>{state.line}</p>}
        {state.step === 'done' && (
          <>
            <p>Device {state.result.deviceId}:</p>
            <ul>
              {state.result.workspaces.map((w) => (
                <li key={w.workspaceId} data-testid="approve-workspace">
                  {w.index !== undefined ? `added to ${w.name}` : `not added to ${w.name}: ${w.refused}`}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </form>
  );
}
