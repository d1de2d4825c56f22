// The relay serves the web app with a Content-Security-Policy, no framing and no referrer, on the
// page, every asset, the service worker and every refusal (DESIGN → threat model: the unlock page must
// not be framable); the service worker and the page are revalidated on each load, so a new build's
// worker is seen (and offered to the user, never applied silently: docs/THREATS.md T28).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';

const dir = mkdtempSync(join(tmpdir(), 'cloister-web-'));
let relay: RunningRelay;

beforeAll(async () => {
  const web = join(dir, 'dist');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(web, 'assets', 'app-1234.js'), 'export {}');
  writeFileSync(join(web, 'sw.js'), '// worker');
  relay = await startRelay({ store: new SqliteStore(join(dir, 'relay.sqlite')), port: 0, webRoot: web, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectWebHeaders(r: Response, what: string): void {
  const csp = r.headers.get('content-security-policy') ?? '';
  expect(csp, what).toMatch(/frame-ancestors 'none'/);
  expect(csp, what).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  expect(csp, what).toMatch(/object-src 'none'/);
  expect(csp, what).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
  expect(r.headers.get('x-frame-options'), what).toBe('DENY');
  expect(r.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
}

describe('serving the web app', () => {
  it('the page and its assets carry a CSP without framing, no referrer and no sniffing; the health endpoint is unaffected', async () => {
    for (const path of ['/', '/assets/app-1234.js', '/some/client/route', '/sw.js']) {
      const r = await fetch(`${relay.httpUrl}${path}`);
      expect(r.status, path).toBe(200);
      expectWebHeaders(r, path);
    }
    expect((await fetch(`${relay.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a missing file, a path outside the build, a bad encoding and a POST are refused with the same headers', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/assets/missing-0000.js', {}, 404],
      ['/favicon.ico', {}, 404],
      ['/%2e%2e/relay.sqlite', {}, 404],
      ['/%E0%A4%A', {}, 400],
      ['/', { method: 'POST', body: 'x' }, 405],
      ['/', { method: 'HEAD' }, 200],
    ];
    for (const [path, init, status] of cases) {
      const r = await fetch(`${relay.httpUrl}${path}`, init);
      expect(r.status, `${init.method ?? 'GET'} ${path}`).toBe(status);
      expectWebHeaders(r, `${init.method ?? 'GET'} ${path}`);
    }
  });

  it('the service worker and the page are revalidated on every load, hashed assets are kept for good', async () => {
    expect((await fetch(`${relay.httpUrl}/sw.js`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${relay.httpUrl}/sw.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${relay.httpUrl}/`)).headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${relay.httpUrl}/assets/app-1234.js`)).headers.get('cache-control')).toMatch(/immutable/);
  });
});

describe('a relay without a web build', () => {
  it('health, metrics and its 404 carry the same no-framing, no-sniffing headers', async () => {
    const bare = await startRelay({ store: new SqliteStore(join(dir, 'bare.sqlite')), port: 0, logger: pino({ level: 'silent' }) });
    try {
      for (const path of ['/healthz', '/metrics', '/', '/index.html']) {
        const r = await fetch(`${bare.httpUrl}${path}`);
        await r.arrayBuffer();
        expectWebHeaders(r, path);
      }
      expect((await fetch(`${bare.httpUrl}/healthz`)).headers.get('content-type')).toBe('application/json');
    } finally {
      await bare.close();
    }
  });
});
