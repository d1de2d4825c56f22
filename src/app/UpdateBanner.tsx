// Registers the service worker (public/sw.js) and says when a new build of the app is installed and
// waiting: it runs only after the user clicks "Update", which is what stops whoever serves the app from
// changing its code silently at a load. A worker that takes over without that click is reported, since
// only a server shipping a worker that skips the wait can do that (docs/THREATS.md, T28).
import { useEffect, useState } from 'react';

// The shell version the user approved (a hash of the build, from the waiting worker): every open tab
// reloads when a worker of exactly that version takes over, and warns for any other.
const APPROVED = 'cloister-update-approved';
const CHECK_EVERY_MS = 60 * 60 * 1000; // long-open tabs look for a new build hourly; each load looks at once
const ANSWER_MS = 5_000;

/** The shell version a worker says it installed ('' if it doesn't answer). */
function versionOf(worker: ServiceWorker | null): Promise<string> {
  if (!worker) return Promise.resolve('');
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(''), ANSWER_MS);
    channel.port1.onmessage = (e: MessageEvent<{ version?: unknown }>) => {
      clearTimeout(timer);
      resolve(typeof e.data?.version === 'string' ? e.data.version : '');
    };
    worker.postMessage({ type: 'shell-version' }, [channel.port2]);
  });
}

export function UpdateBanner() {
  const [waiting, setWaiting] = useState<ServiceWorker>();
  const [unapproved, setUnapproved] = useState(false);

  useEffect(() => {
    if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
    const sw = navigator.serviceWorker;
    const hadController = sw.controller !== null; // the first visit's install takes over without asking: that's fine
    let timer: ReturnType<typeof setInterval> | undefined;
    let gone = false;
    const onControllerChange = () => {
      void versionOf(sw.controller).then((v) => {
        if (v !== '' && v === localStorage.getItem(APPROVED)) location.reload();
        else if (hadController && !gone) setUnapproved(true);
      });
    };
    sw.addEventListener('controllerchange', onControllerChange);
    sw.register('/sw.js').then(
      (reg) => {
        if (gone) return;
        const offer = () => {
          if (reg.waiting && sw.controller) setWaiting(reg.waiting);
        };
        offer();
        reg.addEventListener('updatefound', () => {
          const w = reg.installing;
          w?.addEventListener('statechange', () => w.state === 'installed' && offer());
        });
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

  const apply = async () => {
    if (!waiting || waiting.state !== 'installed') return location.reload(); // another tab already applied it
    localStorage.setItem(APPROVED, await versionOf(waiting));
    waiting.postMessage({ type: 'apply-update' }); // it activates; controllerchange then reloads every tab
  };

  if (unapproved) {
    return (
      <div role="alert" className="update-banner update-unapproved" data-testid="update-unapproved">
        The server replaced this app's code without your approval. Don't unlock or type anything after reloading unless you
        trust whoever runs it.
      </div>
    );
  }
  if (!waiting) return null;
  return (
    <div role="status" className="update-banner" data-testid="update-available">
      <span>A new version of Cloister is ready. It runs only when you choose; updating reloads the page and locks it.</span>
      <button type="button" data-testid="apply-update" onClick={() => void apply()}>
        Update now
      </button>
    </div>
  );
}
