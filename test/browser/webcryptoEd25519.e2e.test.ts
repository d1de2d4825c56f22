// WebCrypto's Ed25519 in Chromium gives exactly the verdicts of the other paths (DESIGN → Signatures):
// the vector set of test/crypto/ed25519Differential.test.ts — "Taming the many EdDSAs", every
// Wycheproof case, R + T and A + T for each small-order T, small-order R, non-canonical encodings,
// S ≥ L and seeded random corruptions — is judged in the page by the WebCrypto path, by noble, and by
// the synchronous path after a WebCrypto pre-verification, and each verdict must equal Node's (which
// the differential test pins to the strict reference). Also measures noble vs WebCrypto per signature.
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { concat, fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { verifyRaw } from '../../src/crypto/ed25519.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { describeInChromium, launchChromium } from './chromium.ts';

integrationTimeouts();

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const p = (1n << 255n) - 19n;
const FC_SEED = 20261130;
const ORIGIN = 'https://cloister-ed25519.test'; // a secure context (crypto.subtle), answered by page.route

const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToLe = (n: bigint, len = 32) => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const mod = (n: bigint, m: bigint) => ((n % m) + m) % m;
const hx = (h: string) => fromHex(h)!;
const challenge = (r: Uint8Array, a: Uint8Array, msg: Uint8Array) => mod(leToBig(sha512(concat(r, a, msg))), L);
const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h));

function signer(label: string) {
  const { scalar: a } = ed25519.utils.getExtendedPublicKey(sha512(utf8(`cloister webcrypto key ${label}`)).subarray(0, 32));
  let counter = 0;
  const nonce = () => mod(leToBig(sha512(utf8(`cloister webcrypto nonce ${label} ${counter++}`))), L);
  return {
    A: Point.BASE.multiply(a),
    sign(pub: Uint8Array, msg: Uint8Array, opts: { r?: bigint; extra?: InstanceType<typeof Point> } = {}) {
      const r = opts.r ?? nonce();
      const base = r === 0n ? Point.ZERO : Point.BASE.multiply(r);
      const R = (opts.extra ? base.add(opts.extra) : base).toBytes();
      return concat(R, bigToLe(mod(r + challenge(R, pub, msg) * a, L)));
    },
  };
}

interface Case { name: string; pub: string; msg: string; sig: string; want: boolean }

/** The differential test's inputs, with Node's verdict as the one to match. */
function vectorSet(): Case[] {
  const raw: { name: string; pub: Uint8Array; msg: Uint8Array; sig: Uint8Array }[] = [];
  const taming = JSON.parse(readFileSync(new URL('../vectors/taming-eddsa/cases.json', import.meta.url), 'utf8')) as { cases: { number: number; pub_key: string; message: string; signature: string }[] };
  for (const c of taming.cases) raw.push({ name: `taming ${c.number}`, pub: hx(c.pub_key), msg: hx(c.message), sig: hx(c.signature) });
  const wy = JSON.parse(readFileSync(new URL('../vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as { testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string }[] }[] };
  for (const g of wy.testGroups) for (const t of g.tests) raw.push({ name: `wycheproof ${t.tcId}`, pub: hx(g.publicKey.pk), msg: hx(t.msg), sig: hx(t.sig) });
  const alice = signer('alice');
  const pub = alice.A.toBytes();
  for (const [i, T] of torsion.entries()) {
    const msg = utf8(`torsion ${i}`);
    raw.push({ name: `R + T${i}`, pub, msg, sig: alice.sign(pub, msg, { extra: T }) });
    raw.push({ name: `small-order R T${i}`, pub, msg, sig: alice.sign(pub, msg, { r: 0n, extra: T }) });
    const mixed = alice.A.add(T).toBytes();
    raw.push({ name: `A + T${i}`, pub: mixed, msg, sig: alice.sign(mixed, msg) });
    raw.push({ name: `A + T${i}, R - T${i}`, pub: mixed, msg, sig: alice.sign(mixed, msg, { extra: T.negate() }) });
  }
  const msg = utf8('encodings');
  const good = alice.sign(pub, msg);
  raw.push({ name: 'honest', pub, msg, sig: good });
  for (let y = 0n; y < 19n; y++)
    for (const s of [0n, 1n << 255n]) {
      const enc = bigToLe(y + p + s);
      raw.push({ name: `R non-canonical ${toHex(enc)}`, pub, msg, sig: concat(enc, good.subarray(32)) });
      raw.push({ name: `A non-canonical ${toHex(enc)}`, pub: enc, msg, sig: good });
    }
  for (const enc of [bigToLe(1n + (1n << 255n)), bigToLe(p - 1n + (1n << 255n))]) {
    raw.push({ name: `R x=0 sign ${toHex(enc)}`, pub, msg, sig: concat(enc, good.subarray(32)) });
    raw.push({ name: `A x=0 sign ${toHex(enc)}`, pub: enc, msg, sig: good });
  }
  const S = leToBig(good.subarray(32));
  for (const s of [S + L, L, (1n << 256n) - 1n]) raw.push({ name: `S = ${s}`, pub, msg, sig: concat(good.subarray(0, 32), bigToLe(s)) });
  const samples = fc.sample(
    fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }),
      fc.constantFrom('none', 'flip-sig', 'flip-key', 'random-r', 'random-key'), fc.integer({ min: 0, max: 767 }), fc.uint8Array({ minLength: 32, maxLength: 32 })),
    { seed: FC_SEED, numRuns: 300 },
  );
  for (const [n, [m, tR, tA, corruption, bit, junk]] of samples.entries()) {
    const key0 = alice.A.add(torsion[tA]!).toBytes();
    const sig = alice.sign(key0, m, { extra: torsion[tR]! });
    let key = key0;
    if (corruption === 'flip-sig') sig[bit % 512 >> 3]! ^= 1 << (bit & 7);
    if (corruption === 'flip-key') (key = key0.slice())[bit % 256 >> 3]! ^= 1 << (bit & 7);
    if (corruption === 'random-r') sig.set(junk, 0);
    if (corruption === 'random-key') key = junk;
    raw.push({ name: `random ${n} (${corruption}, R+T${tR}, A+T${tA})`, pub: key, msg: m, sig });
  }
  return raw.map((c) => ({ name: c.name, pub: toHex(c.pub), msg: toHex(c.msg), sig: toHex(c.sig), want: verifyRaw(c.pub, c.msg, c.sig, 'node') }));
}

describeInChromium('WebCrypto Ed25519 in Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-e2e-ed25519-'));
    const outDir = join(dir, 'web');
    await build({
      configFile: false, logLevel: 'error', root: join(import.meta.dirname, '..', '..'),
      build: { outDir, emptyOutDir: true, minify: false, lib: { entry: join(import.meta.dirname, 'webcryptoEd25519Entry.ts'), formats: ['iife'], name: 'cloisterEd25519', fileName: () => 'ed25519.js' } },
    });
    const script = readFileSync(join(outDir, 'ed25519.js'), 'utf8');
    context = await launchChromium(join(dir, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e));
    await page.route(`${ORIGIN}/**`, (route) =>
      route.request().url().endsWith('/ed25519.js')
        ? route.fulfill({ contentType: 'text/javascript', body: script })
        : route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>ed25519</title><script src="/ed25519.js"></script>' }),
    );
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => 'cloisterEd25519' in window);
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Chromium has WebCrypto Ed25519, and on every vector the WebCrypto path, noble and the pre-verified synchronous path agree with Node', async () => {
    const cases = vectorSet();
    expect(cases.length).toBeGreaterThan(450);
    expect(cases.some((c) => c.want) && cases.some((c) => !c.want)).toBe(true);
    const got = await page.evaluate(async (cases) => {
      type Api = {
        verifyRaw(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
        verifyRawWebCrypto(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
        webCryptoEd25519Available(): Promise<boolean>;
        forgetVerified(): void;
      };
      const api = (window as unknown as { cloisterEd25519: Api }).cloisterEd25519;
      const b = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
      // WebCrypto on its own, without our pre-checks: how often it would disagree (informative).
      const alg = { name: 'Ed25519' };
      const raw = async (c: { pub: string; msg: string; sig: string }) => {
        try {
          const key = await crypto.subtle.importKey('raw', b(c.pub), alg, false, ['verify']);
          return await crypto.subtle.verify(alg, key, b(c.sig), b(c.msg));
        } catch {
          return false;
        }
      };
      const available = await api.webCryptoEd25519Available();
      api.forgetVerified();
      const noble = cases.map((c) => api.verifyRaw(b(c.pub), b(c.msg), b(c.sig)));
      const webcrypto = await Promise.all(cases.map((c) => api.verifyRawWebCrypto(b(c.pub), b(c.msg), b(c.sig))));
      const afterPreverify = cases.map((c) => api.verifyRaw(b(c.pub), b(c.msg), b(c.sig)));
      const rawVerdicts = await Promise.all(cases.map(raw));
      return { available, noble, webcrypto, afterPreverify, rawVerdicts };
    }, cases);
    expect(got.available).toBe(true);
    const differ = (verdicts: boolean[]) => cases.filter((c, i) => verdicts[i] !== c.want).map((c) => c.name);
    expect(differ(got.webcrypto)).toEqual([]);
    expect(differ(got.noble)).toEqual([]);
    expect(differ(got.afterPreverify)).toEqual([]);
    console.log(`[ed25519] ${cases.length} cases; WebCrypto alone (no pre-checks) differs from the strict verdict on ${differ(got.rawVerdicts).length}: ${differ(got.rawVerdicts).slice(0, 8).join(', ')}`);
  });

  it('measures noble and WebCrypto verification per signature in the page', async () => {
    const alice = signer('bench');
    const pub = alice.A.toBytes();
    const sigs = Array.from({ length: 400 }, (_, i) => {
      const msg = utf8(`cloister/change/v1 bench message ${i} `.repeat(8));
      return { msg: toHex(msg), sig: toHex(alice.sign(pub, msg)) };
    });
    const r = await page.evaluate(async ({ pub, sigs }) => {
      type Api = { verifyRaw(p: Uint8Array, m: Uint8Array, s: Uint8Array): boolean; verifyRawWebCrypto(p: Uint8Array, m: Uint8Array, s: Uint8Array): Promise<boolean>; forgetVerified(): void };
      const api = (window as unknown as { cloisterEd25519: Api }).cloisterEd25519;
      const b = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
      const items = sigs.map((s) => ({ m: b(s.msg), s: b(s.sig) }));
      const P = b(pub);
      api.forgetVerified();
      api.verifyRaw(P, items[0]!.m, items[0]!.s); // warm up (key check cached)
      let t = performance.now();
      let ok = 0;
      for (const it of items) ok += api.verifyRaw(P, it.m, it.s) ? 1 : 0;
      const nobleUs = ((performance.now() - t) * 1000) / items.length;
      api.forgetVerified();
      await api.verifyRawWebCrypto(P, items[0]!.m, items[0]!.s);
      api.forgetVerified();
      t = performance.now();
      for (const it of items) ok += (await api.verifyRawWebCrypto(P, it.m, it.s)) ? 1 : 0;
      const webSequentialUs = ((performance.now() - t) * 1000) / items.length;
      api.forgetVerified();
      t = performance.now();
      ok += (await Promise.all(items.map((it) => api.verifyRawWebCrypto(P, it.m, it.s)))).filter(Boolean).length;
      const webBatchUs = ((performance.now() - t) * 1000) / items.length;
      api.forgetVerified();
      t = performance.now();
      for (let i = 0; i < items.length; i += 8)
        ok += (await Promise.all(items.slice(i, i + 8).map((it) => api.verifyRawWebCrypto(P, it.m, it.s)))).filter(Boolean).length;
      const webChunkUs = ((performance.now() - t) * 1000) / items.length;
      return { ok, n: items.length, nobleUs, webSequentialUs, webBatchUs, webChunkUs };
    }, { pub: toHex(pub), sigs });
    expect(r.ok).toBe(4 * r.n);
    console.log(`[ed25519] per signature in Chromium: noble ${r.nobleUs.toFixed(0)} µs, WebCrypto ${r.webSequentialUs.toFixed(0)} µs one at a time, ${r.webChunkUs.toFixed(0)} µs eight at a time, ${r.webBatchUs.toFixed(0)} µs all ${r.n} at once (${(r.nobleUs / r.webSequentialUs).toFixed(1)}× faster one at a time)`);
  });
});
