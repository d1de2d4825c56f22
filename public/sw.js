// Cloister's service worker: installs the web app's shell (page, scripts, wasm) and serves it cache
// first, so the app opens offline and whoever serves it (the relay) can't change the code a user runs
// at an ordinary load. The build stamps SHELL (vite.config.ts → shellManifest): the files and a hash of
// their bytes. A new build is a new sw.js; the browser installs it beside this one into its own cache,
// where it waits. Whichever worker is active serves the shell the user APPROVED (the first one
// installed, then each one they chose with "Update now" in UpdateBanner), so a new build never runs on
// its own: not at a reload, and not when the browser starts the new worker after every tab closed.
// Records never pass through here (they live encrypted in IndexedDB). Limits: docs/THREATS.md (T28).
const SHELL = self.__CLOISTER_SHELL__ ?? { version: 'unbuilt', build: 'unbuilt', files: ['/'] };
const PREFIX = 'cloister-shell-';
const CACHE = PREFIX + SHELL.version;
const META = 'cloister-meta';
const APPROVED = '/__cloister/approved-shell'; // a key in META, never fetched
// The relay's own endpoints are not part of the app: a navigation to them goes to the network.
const NOT_SHELL = new Set(['/healthz', '/metrics', '/sw.js']);

async function approvedVersion() {
  const hit = await (await caches.open(META)).match(APPROVED);
  return hit ? hit.text() : null;
}

async function approve(version) {
  await (await caches.open(META)).put(APPROVED, new Response(version));
}

/** The approved shell's cache while it is still there; this worker's own otherwise (first install, evicted). */
async function servingCache() {
  const approved = await approvedVersion();
  if (approved && approved !== SHELL.version && (await caches.has(PREFIX + approved))) return caches.open(PREFIX + approved);
  return caches.open(CACHE);
}

self.addEventListener('install', (event) => {
  // Fetched past the HTTP cache, so the shell is exactly the bytes this build names. No skipWaiting:
  // an update waits for the user (the first install has nothing to wait for, and is approved by it).
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => c.addAll(SHELL.files.map((f) => new Request(f, { cache: 'reload' }))))
      .then(approvedVersion)
      .then((approved) => (approved === null ? approve(SHELL.version) : undefined)),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    Promise.all([caches.keys(), approvedVersion()])
      .then(([keys, approved]) => {
        const keep = new Set([CACHE, PREFIX + approved]);
        return Promise.all(keys.filter((k) => (k.startsWith(PREFIX) && !keep.has(k)) || k === 'cloister-app-v1').map((k) => caches.delete(k)));
      })
      .then(() => self.clients.claim()),
  );
});

// The page asks which shell this worker installed and which one is approved; on the user's click only,
// it approves this worker's shell, which then takes over (if it was waiting) and is served from now on.
self.addEventListener('message', (event) => {
  const port = event.ports[0];
  if (event.data?.type === 'shell-version') {
    event.waitUntil(approvedVersion().then((approved) => port?.postMessage({ version: SHELL.version, build: SHELL.build, approved })));
  }
  // A page that loaded while this worker was still activating isn't controlled (clients.claim() ran
  // before it was a client): it asks once it sees this worker active. Only the active worker can claim.
  if (event.data?.type === 'claim') {
    event.waitUntil(self.clients.claim().catch(() => undefined)); // a worker that isn't active can't claim: nothing happens
  }
  if (event.data?.type === 'apply-update') {
    event.waitUntil(approve(SHELL.version).then(() => self.skipWaiting()).then(() => port?.postMessage({ applied: SHELL.version })));
  }
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const isPage = req.mode === 'navigate' && !NOT_SHELL.has(url.pathname);
  if (!isPage && !url.pathname.startsWith('/assets/')) return;
  event.respondWith(
    servingCache()
      .then((c) => c.match(isPage ? '/' : req, { ignoreSearch: true }))
      // Only an installed shell is served from here; anything else (e.g. an asset of a build not
      // installed yet) comes from the network and is not kept.
      .then((hit) => hit ?? fetch(req)),
  );
});
