// Thrown by DocSession.open for a document this profile stores but cannot read. The document is
// left on disk untouched and listed in session.damaged; callers show it as damaged, never as empty.
import { DAMAGED_WORDS, type DamageReason } from './damaged.ts';

export class DamagedDocumentError extends Error {
  constructor(
    readonly docId: string,
    readonly reason: DamageReason,
    readonly detail?: string,
  ) {
    super(`document ${docId} is damaged: ${DAMAGED_WORDS[reason]}${detail ? ` (${detail})` : ''}`);
    this.name = 'DamagedDocumentError';
  }
}
