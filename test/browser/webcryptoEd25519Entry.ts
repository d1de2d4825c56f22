// Bundled (as an IIFE) into a page by webcryptoEd25519.e2e.test.ts: the WebCrypto and noble Ed25519
// paths of src/crypto, exposed on window.cloisterEd25519 so the test can run vectors in Chromium.
export { verifyRaw } from '../../src/crypto/ed25519.ts';
export { verifyRawWebCrypto, webCryptoEd25519Available } from '../../src/crypto/ed25519WebCrypto.ts';
export { forgetVerified } from '../../src/crypto/_ed25519Verified.ts';
