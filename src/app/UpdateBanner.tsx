// Registers the service worker (public/sw.js) and says when a new build of the app is installed but
// not yet approved: it runs only after the user clicks "Update now", which is what stops whoever serves
// the app from changing its code silently at a load. A worker that takes over an open page without that
// click is reported, since only a server shipping a worker that skips the wait can do that
// (docs/THREATS.md, T28).
import { useEffect, useState } from 'react';

// The shell version the user approved, so every open tab reloads when a worker of exactly that
// version takes over, and warns for any other.
const APPROVED = 'cloister-update-approved';
const CHECK_EVERY_MS = 60 * 60 * 1000; // long-open tabs look for a new build hourly; each load looks at once
const ANSWER_MS = 5_000;

interface ShellState {
  version: string;
  approved: string | null;
}

/** Asks a worker something over a private channel; undefined if it doesn't answer. */
function ask<T>(worker: ServiceWorker, message: object): Promise<T | undefined> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(undefined), ANSWER_MS);
    channel.port1.onmessage = (e: MessageEvent<T>) => {
      clearTimeout(timer);
      resolve(e.data);
    };
    worker.postMessage(message, [channel.port2]);
  });
}

/** The shell a worker installed and the one the user approved ('' and null if it doesn't say). */
async function shellState(worker: ServiceWorker | null): Promise<ShellState> {
  const r = worker ? await ask<{ version?: unknown; approved?: unknown }>(worker, { type: 'shell-version' }) : undefined;
  return { version: typeof r?.version === 'string' ? r.version : '', approved: typeof r?.approved === 'string' ? r.approved : null };
}

/** A new build: installed and waiting, or already running the worker while the old build is still served. */
interface Pending {
  worker: ServiceWorker;
  waiting: boolean;
}

export function UpdateBanner() {
  const [pending, setPending] = useState<Pending>();
  const [unapproved, setUnapproved] = useState(false);

  useEffect(() => {
    if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
    const sw = navigator.serviceWorker;
    const hadController = sw.controller !== null; // the first visit's install takes over without asking: that's fine
    let timer: ReturnType<typeof setInterval> | undefined;
    let gone = false;
    const onControllerChange = () => {
      void shellState(sw.controller).then(({ version }) => {
        if (version !== '' && version === localStorage.getItem(APPROVED)) location.reload();
        else if (hadController && !gone) setUnapproved(true);
      });
    };
    sw.addEventListener('controllerchange', onControllerChange);
    // Ask the browser not to evict this origin's storage under pressure: the approved shell (and the
    // encrypted records) would otherwise be the first to go. Chromium decides without a prompt.
    void navigator.storage?.persist?.().catch(() => undefined);
    sw.register('/sw.js').then(
      (reg) => {
        if (gone) return;
        const offer = async () => {
          if (reg.waiting && sw.controller) return setPending({ worker: reg.waiting, waiting: true });
          const active = sw.controller;
          const s = await shellState(active);
          if (active && !gone && s.version && s.approved && s.version !== s.approved) setPending({ worker: active, waiting: false });
        };
        void offer();
        // The first visit's page may have loaded while the new worker was activating: then it isn't
        // controlled though a worker is active. Ask the active worker to take it (nothing changes in the
        // page: it keeps the build it runs; its next loads come from the installed shell).
        const claimIfActive = () => void (sw.controller === null && reg.active?.postMessage({ type: 'claim' }));
        claimIfActive();
        // A first install that fails (a file didn't download) leaves no worker: try again, backing off,
        // until one is active, so the offline copy doesn't wait for the next visit.
        let retryMs = 2_000;
        const watch = (w: ServiceWorker | null) =>
          w?.addEventListener('statechange', () => {
            if (w.state === 'installed') void offer();
            if (w.state === 'activated') claimIfActive();
            if (w.state === 'redundant' && !reg.active && !gone) {
              setTimeout(() => void (gone || reg.update().catch(() => undefined)), retryMs);
              retryMs = Math.min(retryMs * 2, 60_000);
            }
          });
        watch(reg.installing); // the first install may have started before this listener
        reg.addEventListener('updatefound', () => watch(reg.installing));
        timer = setInterval(() => void reg.update().catch(() => undefined), CHECK_EVERY_MS);
      },
      (e: Error) => console.warn(`offline copy unavailable: ${e.message}`),
    );
    return () => {
      gone = true;
      clearInterval(timer);
      sw.removeEventListener('controllerchange', onControllerChange);
    };
  }, []);

  const apply = async (p: Pending) => {
    const { version } = await shellState(p.worker);
    if (!version) return location.reload(); // gone (another tab applied it): the reload shows what is approved
    localStorage.setItem(APPROVED, version);
    await ask(p.worker, { type: 'apply-update' });
    if (!p.waiting) location.reload(); // a waiting worker takes over first; controllerchange then reloads every tab
  };

  if (unapproved) {
    return (
      <div role="alert" className="update-banner update-unapproved" data-testid="update-unapproved">
        The server replaced this app's code without your approval. Don't unlock or type anything after reloading unless you
        trust whoever runs it.
      </div>
    );
  }
  if (!pending) return null;
  return (
    <div role="status" className="update-banner" data-testid="update-available">
      <span>A new version of Cloister is ready. It runs only when you choose; updating reloads the page and locks it.</span>
      <button type="button" data-testid="apply-update" onClick={() => void apply(pending)}>
        Update now
      </button>
    </div>
  );
}
