// Entry point of the web app (built by Vite into dist/, served by the relay or any static host). The
// update banner sits above the app: it registers the service worker that keeps the installed build
// (public/sw.js) and offers a new build only for the user to apply.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { UpdateBanner } from './UpdateBanner.tsx';
import './app.css';

// Which build this page runs (set at build time; the serving tests tell an old build from a new one by it).
document.documentElement.dataset.build = String(import.meta.env.CLOISTER_BUILD_ID ?? 'dev');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <UpdateBanner />
    <App />
  </StrictMode>,
);
