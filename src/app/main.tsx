// Entry point of the web app (built by Vite into dist/, served by the relay).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './app.css';

// Keep the app's files for when the relay that served them is unreachable (see public/sw.js).
function keepOfflineCopy(): void {
  navigator.serviceWorker
    .register('/sw.js')
    .then(() => navigator.serviceWorker.ready)
    .then((reg) => {
      const loaded = performance.getEntriesByType('resource').map((e) => e.name);
      reg.active?.postMessage({ cache: loaded });
    })
    .catch((e: Error) => console.warn(`offline copy unavailable: ${e.message}`));
}
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // Top-level awaits (Automerge's wasm) can delay this module past the load event.
  if (document.readyState === 'complete') keepOfflineCopy();
  else window.addEventListener('load', keepOfflineCopy);
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
