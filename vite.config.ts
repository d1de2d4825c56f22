// Builds the web app (index.html → src/app/main.tsx) into dist/, which `npm start`'s relay serves;
// public/ (the service worker) is copied as is. Automerge's wasm builds without plugins in Vite 8; the
// dev server must not pre-bundle it.
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

// A few modules hold both browser-safe code and Node file I/O (the vault and workspace stores). The
// app never calls their Node half; the production build drops it, but the dev server evaluates it, so
// node:fs / node:path resolve to stand-ins that throw if ever called in the browser.
const NODE_NAMES = {
  'node:fs': ['existsSync', 'mkdirSync', 'readFileSync', 'readdirSync', 'unlinkSync', 'closeSync', 'fsyncSync', 'openSync', 'renameSync', 'statSync', 'writeSync', 'promises'],
  'node:path': ['join', 'basename', 'dirname', 'resolve', 'sep', 'extname'],
} as const;

function nodeStandIns(): Plugin {
  const PREFIX = '\0cloister-node-stand-in:';
  return {
    name: 'cloister-node-stand-ins',
    enforce: 'pre',
    resolveId(id) {
      return id in NODE_NAMES ? PREFIX + id : undefined;
    },
    load(id) {
      if (!id.startsWith(PREFIX)) return undefined;
      const mod = id.slice(PREFIX.length) as keyof typeof NODE_NAMES;
      const fail = `() => { throw new Error(${JSON.stringify(`${mod} is not available in the browser`)}); }`;
      const names = NODE_NAMES[mod].map((n) => `export const ${n} = ${fail};`).join('\n');
      return `${names}\nexport default { ${NODE_NAMES[mod].join(', ')} };`;
    },
  };
}

export default defineConfig({
  plugins: [nodeStandIns(), react()],
  optimizeDeps: { exclude: ['@automerge/automerge'] },
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
});
