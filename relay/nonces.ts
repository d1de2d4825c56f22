// Challenge nonces the relay issued and has not yet seen answered. A nonce is consumed by the first
// response that names it (valid or not), so a response can never be replayed; entries expire with the challenge.
import { toHex } from '../src/crypto/bytes.ts';
import { CHALLENGE_MAX_AGE_MS } from '../src/protocol/challenge.ts';

export class NonceRegistry {
  private readonly issued = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  issue(nonce: Uint8Array): void {
    this.prune();
    this.issued.set(toHex(nonce), this.now());
  }

  /** True the first time an issued nonce is presented; false for unknown or used nonces. */
  consume(nonce: Uint8Array): boolean {
    return this.issued.delete(toHex(nonce));
  }

  private prune(): void {
    const cutoff = this.now() - 2 * CHALLENGE_MAX_AGE_MS;
    for (const [k, at] of this.issued) {
      if (at >= cutoff) break; // insertion order = issue order
      this.issued.delete(k);
    }
  }
}
