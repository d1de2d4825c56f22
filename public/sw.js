// Cloister's service worker: keeps the web app's own files (page, scripts, wasm) so the app opens even
// when the relay that served it is stopped or unreachable. Network first (a new build is picked up as
// soon as it is served), the cached copy when the network fails. Only same-origin GETs of the app's
// files are cached; records never pass through here (they live encrypted in IndexedDB).
const CACHE = 'cloister-app-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(['./'])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page sends the asset urls it loaded before this worker controlled it (first visit).
self.addEventListener('message', (event) => {
  const urls = Array.isArray(event.data?.cache) ? event.data.cache : [];
  const mine = urls.filter((u) => typeof u === 'string' && new URL(u).origin === self.location.origin && new URL(u).pathname.startsWith('/assets/'));
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(mine)));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const isPage = req.mode === 'navigate';
  if (!isPage && !url.pathname.startsWith('/assets/')) return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          void caches.open(CACHE).then((c) => c.put(isPage ? './' : req, copy));
        }
        return res;
      })
      .catch(async () => (await caches.match(isPage ? './' : req)) ?? Response.error()),
  );
});
