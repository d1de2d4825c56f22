// Builds the web app (index.html → src/app/main.tsx) into dist/, which `npm start`'s relay serves;
// public/ (the service worker) is copied as is. Automerge's wasm builds without plugins in Vite 8; the
// dev server must not pre-bundle it. Nothing the app imports touches node:fs (vault and workspace
// codecs are separate from their Node file stores).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
