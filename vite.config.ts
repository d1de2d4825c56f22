// Builds the web app (index.html → src/app/main.tsx) into dist/, which `npm start`'s relay serves.
// Automerge's wasm builds without plugins in Vite 8; the dev server must not pre-bundle it.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
