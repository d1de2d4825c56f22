// Builds the web app (index.html → src/app/main.tsx) into dist/, which `npm start`'s relay serves;
// public/ (the service worker) is copied, then stamped with the shell it installs (see shellManifest).
// Automerge's wasm builds without plugins in Vite 8; the dev server must not pre-bundle it. Nothing the
// app imports touches node:fs (vault and workspace codecs are separate from their Node file stores).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** The build's name, shown to the app as import.meta.env.CLOISTER_BUILD_ID (tests set it to tell builds apart). */
const BUILD_ID = process.env.CLOISTER_BUILD_ID ?? 'local';
const SHELL_PLACEHOLDER = 'self.__CLOISTER_SHELL__';

/**
 * Writes the installed shell into dist/sw.js: every file of the build (page and /assets/*) and a
 * version that is a hash of their bytes and of the worker's code. A new build changes sw.js byte for
 * byte, which is how the browser notices it (it re-fetches sw.js on navigation); an identical build
 * changes nothing, so no update is offered. The worker installs exactly these files, so the first
 * visit works offline.
 */
function shellManifest(): Plugin {
  let outDir = 'dist';
  return {
    name: 'cloister-shell-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const files: string[] = [];
      const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else files.push(relative(outDir, p).split(sep).join('/'));
        }
      };
      walk(outDir);
      const shell = files.filter((f) => f === 'index.html' || f.startsWith('assets/')).sort();
      const swPath = join(outDir, 'sw.js');
      const sw = readFileSync(swPath, 'utf8');
      if (!sw.includes(SHELL_PLACEHOLDER)) throw new Error(`${swPath} has no ${SHELL_PLACEHOLDER} to stamp`);
      const hash = createHash('sha256').update(sw).update('\0'); // the worker's own code is part of the shell's version
      for (const f of shell) hash.update(f).update('\0').update(readFileSync(join(outDir, f))).update('\0');
      const manifest = { version: hash.digest('hex').slice(0, 16), build: BUILD_ID, files: shell.map((f) => (f === 'index.html' ? '/' : `/${f}`)) };
      writeFileSync(swPath, sw.replace(SHELL_PLACEHOLDER, JSON.stringify(manifest)));
    },
  };
}

export default defineConfig({
  plugins: [react(), shellManifest()],
  define: { 'import.meta.env.CLOISTER_BUILD_ID': JSON.stringify(BUILD_ID) },
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
