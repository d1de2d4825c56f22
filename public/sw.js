// Cloister's service worker: installs the web app's shell (page, scripts, wasm) and serves it cache
// first, so the app opens offline and whoever serves it (the relay) can't change the code a user runs
// at an ordinary load. The build stamps SHELL (vite.config.ts → shellManifest): the files and a hash of
// their bytes. A new build is a new sw.js; the browser installs it beside this one into its own cache,
// where it waits until the user says "update" in the page (UpdateBanner), never on its own.
// Records never pass through here (they live encrypted in IndexedDB). Limits: docs/THREATS.md (T28).
const SHELL = self.__CLOISTER_SHELL__ ?? { version: 'unbuilt', build: 'unbuilt', files: ['/'] };
const PREFIX = 'cloister-shell-';
const CACHE = PREFIX + SHELL.version;
// The relay's own endpoints are not part of the app: a navigation to them goes to the network.
const NOT_SHELL = new Set(['/healthz', '/metrics', '/sw.js']);

self.addEventListener('install', (event) => {
  // Fetched past the HTTP cache, so the shell is exactly the bytes this build names. No skipWaiting:
  // an update waits for the user (the first install has nothing to wait for and activates at once).
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL.files.map((f) => new Request(f, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE && (k.startsWith(PREFIX) || k === 'cloister-app-v1')).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks for the build this worker installed, and (on the user's click only) to take over.
self.addEventListener('message', (event) => {
  if (event.data?.type === 'shell-version') event.ports[0]?.postMessage({ version: SHELL.version, build: SHELL.build });
  if (event.data?.type === 'apply-update') void self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const isPage = req.mode === 'navigate' && !NOT_SHELL.has(url.pathname);
  if (!isPage && !url.pathname.startsWith('/assets/')) return;
  event.respondWith(
    caches.open(CACHE)
      .then((c) => c.match(isPage ? '/' : req, { ignoreSearch: true }))
      // Only what this build installed is served from here; anything else (e.g. an asset of a build
      // not installed yet) comes from the network and is not kept.
      .then((hit) => hit ?? fetch(req)),
  );
});
