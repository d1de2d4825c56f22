// Serves the web build (dist/) read-only, with an index.html fallback for client-side routes. Every
// answer, including 404s, refusals and errors, carries WEB_HEADERS, so no page of this origin can be
// framed or run code from elsewhere. sw.js and the page are revalidated on each load (no-cache): the
// browser must see a new build's worker to offer it, and the worker, not the HTTP cache, keeps the
// installed build (public/sw.js).
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.webmanifest': 'application/manifest+json',
};

/**
 * Headers on everything served from the web build: a Content-Security-Policy that allows only the
 * app's own scripts (plus WebAssembly, for Automerge), styles and workers, WebSocket connections to
 * relays, and no framing (so the unlock page can't be framed); no referrer; no MIME sniffing.
 */
export const WEB_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self' ws: wss:", "worker-src 'self'", "manifest-src 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "form-action 'self'", "object-src 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};

/** How long a browser may keep a file without asking: hashed assets never change, the rest is revalidated. */
function cacheControl(pathname: string): string {
  return pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

function refuse(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): true {
  res.writeHead(status, { ...WEB_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(`${text}\n`);
  return true;
}

/**
 * Answers every request that reaches the web build (the relay's own endpoints are routed before it):
 * a file, the page for a client-side route, or a refusal, all with WEB_HEADERS. Returns true when it
 * answered (always, today; kept boolean so the caller's fallback stays).
 */
export function serveStatic(webRoot: string, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
  const root = resolve(webRoot);
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return refuse(res, 400, 'bad request');
  }
  let file = resolve(join(root, pathname));
  if (file !== root && !file.startsWith(root + sep)) return refuse(res, 404, 'not found'); // path traversal
  if (!existsSync(file) || statSync(file).isDirectory()) {
    const index = join(file, 'index.html');
    file = existsSync(index) ? index : extname(pathname) ? '' : join(root, 'index.html');
    if (!file || !existsSync(file)) return refuse(res, 404, 'not found');
  }
  const headers = { ...WEB_HEADERS, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': cacheControl(pathname) };
  if (req.method === 'HEAD') {
    res.writeHead(200, headers);
    res.end();
    return true;
  }
  const stream = createReadStream(file);
  stream.once('open', () => {
    res.writeHead(200, headers);
    stream.pipe(res);
  });
  stream.once('error', () => (res.headersSent ? res.destroy() : refuse(res, 500, 'cannot read this file')));
  return true;
}
