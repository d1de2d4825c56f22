// Builds the web app (index.html → src/app/main.tsx) into dist/, which `npm start`'s relay serves;
// public/ (the service worker) is copied as is. Automerge's wasm builds without plugins in Vite 8; the
// dev server must not pre-bundle it.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Modules that hold both browser-safe code and Node file I/O (the vault and workspace stores): the
// app never calls the Node half, which tree-shaking drops, so Vite's "externalized node:fs" notices
// about them are noise.
const NODE_HALVES = /src\/identity\/(vault|workspace)\/(store|atomicWrite|backoff)\.ts/;

export default defineConfig({
  plugins: [react()],
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: {
    outDir: 'dist',
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      onLog(level, log, handler) {
        if (/externalized for browser compatibility/.test(log.message) && NODE_HALVES.test(log.message)) return;
        handler(level, log);
      },
    },
  },
});
