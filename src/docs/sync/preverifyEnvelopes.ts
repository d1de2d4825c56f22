// Before a batch of pulled envelopes is applied in the browser, verify their signatures together with
// WebCrypto's Ed25519 (asynchronous, much faster than the pure-JS path). Accepted signatures are
// remembered, so openEnvelope's synchronous check finds them; anything not accepted here is simply
// checked again there, so the verdict is the one every path gives (src/crypto/ed25519WebCrypto.ts).
// Where Node's native Ed25519 is in use, or WebCrypto lacks Ed25519, this does nothing.
import { DOMAIN } from '../../crypto/domains.ts';
import { ED25519_IMPL } from '../../crypto/ed25519.ts';
import { verifyWebCrypto, webCryptoEd25519Available } from '../../crypto/ed25519WebCrypto.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import type { EnvelopeAuthority } from '../envelope/authority.ts';

/** How many verifications are awaited together: in Chromium on 2 cores, 8 at a time beat both one at a time and hundreds at once (test/browser/webcryptoEd25519.e2e.test.ts). */
const PARALLEL = 8;

export async function preverifyEnvelopes(envelopes: readonly Uint8Array[], authority: EnvelopeAuthority): Promise<{ verified: number; checked: number }> {
  if (ED25519_IMPL === 'node' || envelopes.length === 0 || !(await webCryptoEd25519Available())) return { verified: 0, checked: 0 };
  const jobs: (() => Promise<boolean>)[] = [];
  for (const bytes of envelopes) {
    const d = decodeEnvelope(bytes);
    if (!d.ok || d.value.header.workspaceId !== authority.workspaceId) continue;
    const device = authority.deviceInfo(d.value.header.deviceId);
    if (!device) continue;
    const env = d.value;
    jobs.push(() => verifyWebCrypto(device.signingPub, DOMAIN.change, env.signedBytes, env.signature));
  }
  let verified = 0;
  for (let i = 0; i < jobs.length; i += PARALLEL) {
    const r = await Promise.all(jobs.slice(i, i + PARALLEL).map((j) => j()));
    verified += r.filter(Boolean).length;
  }
  return { verified, checked: jobs.length };
}
