// Service worker: keeps the page, the validator and its definitions for
// offline use. Network first (a new build is picked up at once when
// online), the cache when the network is not there.
const CACHE = 'fhirreg-validator-v1';
const FILES = [
  './',
  'index.html',
  'app.js',
  'worker.js',
  'style.css',
  '../pkg/fhirreg.js',
  '../pkg/fhirreg_wasm.js',
  '../pkg/fhirreg_wasm_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(request, response.clone());
      return response;
    } catch (e) {
      // The glue is imported again with ?instance=N after an internal error.
      const cached = await cache.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw e;
    }
  })());
});
