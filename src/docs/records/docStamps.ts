// A cheap stamp of everything a session reads to show one stored document, taken from the disk alone
// (readdir and stat, no decryption), so that an unchanged stamp proves the document reads as before.
// A session shows a document from: its chunks in the Repo's storage (<dir>/repo), the envelopes of it
// still in the outbox (put back after a crash, DocSession), whether the profile knows it, and, for who
// changed it, its provenance (the last three in the encrypted state storage, <dir>/state). Node only.
//
// Stored names are keyed hashes (storageNames.ts): a chunk's name holds the hash of its content or
// heads, an outbox entry its seq, a provenance chunk a fresh batch id (provenance.ts writes each chunk
// once, never in place: even a dropped entry is a new chunk), so new content shows as a new name. Repo chunks are written in place (NodeFS), so a chunk caught half-written could later complete
// under the same name: their size and change time are part of the stamp. State files are renamed into
// place whole (AtomicFileStorageAdapter): their names suffice.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageNameKey } from '../../crypto/keys.ts';
import { hashStorageKey } from '../storage/storageNames.ts';

/** State key prefixes a session reads a document under: outbox.ts, provenance.ts, DocSession.ts (KNOWN_PREFIX). */
const OUTBOX = 'cloister-outbox';
const PROVENANCE = 'cloister-provenance';
const KNOWN = 'cloister-doc';

/** Where one document's stored files are, relative to <dir>/repo and <dir>/state ("a/b"). */
export interface DocPlaces {
  repo: string;
  outbox: string;
  provenance: string;
  known: string;
}

/** The stored names of a document's files (keyed hashes: computing them needs the vault's name key). */
export function placesOf(nameKey: StorageNameKey, docId: string): DocPlaces {
  const two = (prefix: string) => hashStorageKey(nameKey, [prefix, docId]).join('/');
  const repo = hashStorageKey(nameKey, [docId])[0]!;
  // NodeFSStorageAdapter splits the first key part after two characters.
  return { repo: `${repo.slice(0, 2)}/${repo.slice(2)}`, outbox: two(OUTBOX), provenance: two(PROVENANCE), known: two(KNOWN) };
}

/** Reads the state folders once, then stamps any number of documents. Make one per look at the disk. */
export class DocStamper {
  readonly #repo: string;
  readonly #state: string;
  readonly #listed = new Map<string, Set<string>>();

  constructor(workspaceDir: string) {
    this.#repo = join(workspaceDir, 'repo');
    this.#state = join(workspaceDir, 'state');
  }

  /** A short digest of the document's stored files now (chunks, outbox entries, known): equal digests mean the same files. */
  stamp(places: DocPlaces): string {
    const parts: string[] = [];
    walk(join(this.#repo, places.repo), '', parts);
    parts.sort();
    parts.push(`o:${this.#names(places.outbox).join(',')}`, `k:${this.#has(places.known)}`);
    return digest(parts);
  }

  /** The same for the document's provenance (who changed it): read for details, and to tell a record not held yet from a missing one. */
  provenanceStamp(places: DocPlaces): string {
    return digest(this.#names(places.provenance));
  }

  /** Entry names in state folder "a/b" (sorted); one readdir of "a" tells which b exist. */
  #names(place: string): string[] {
    if (!this.#has(place)) return [];
    return list(join(this.#state, place)).sort();
  }

  #has(place: string): boolean {
    const [a, b] = place.split('/') as [string, string];
    let names = this.#listed.get(a);
    if (!names) this.#listed.set(a, (names = new Set(list(join(this.#state, a)))));
    return names.has(b);
  }
}

const digest = (parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 22);

function list(dir: string): string[] {
  try {
    return readdirSync(dir).filter(n => !n.endsWith('.tmp'));
  } catch {
    return []; // absent (or removed meanwhile: the next stamp sees what replaced it)
  }
}

/** "relpath size ctime" of every file under `dir`. */
function walk(dir: string, rel: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const r = `${rel}/${e.name}`;
    if (e.isDirectory()) walk(join(dir, e.name), r, out);
    else {
      const st = statSync(join(dir, e.name), { bigint: true, throwIfNoEntry: false });
      out.push(st ? `${r} ${st.size} ${st.ctimeNs} ${st.ino}` : `${r} gone`);
    }
  }
}
