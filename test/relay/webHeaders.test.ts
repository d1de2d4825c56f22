// The relay serves the web app with a Content-Security-Policy, no framing and no referrer, on the
// page and on every asset (DESIGN → threat model: the unlock page must not be framable).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';

const dir = mkdtempSync(join(tmpdir(), 'cloister-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serving the web app', () => {
  it('the page and its assets carry a CSP without framing, no referrer and no sniffing; the health endpoint is unaffected', async () => {
    const web = join(dir, 'dist');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(web, 'assets', 'app.js'), 'export {}');
    const relay = await startRelay({ store: new SqliteStore(join(dir, 'relay.sqlite')), port: 0, webRoot: web, logger: pino({ level: 'silent' }) });
    try {
      for (const path of ['/', '/assets/app.js', '/some/client/route']) {
        const r = await fetch(`${relay.httpUrl}${path}`);
        expect(r.status, path).toBe(200);
        const csp = r.headers.get('content-security-policy') ?? '';
        expect(csp).toMatch(/frame-ancestors 'none'/);
        expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
        expect(csp).toMatch(/object-src 'none'/);
        expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
        expect(r.headers.get('x-frame-options')).toBe('DENY');
        expect(r.headers.get('referrer-policy')).toBe('no-referrer');
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      }
      expect((await fetch(`${relay.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await relay.close();
    }
  });
});
