// Grow Automerge's wasm memory once ahead of a batch that opens many documents, instead of 64 KiB at a
// time while they are applied (issue 13). Each growth of a WebAssembly.Memory gives V8 a new ArrayBuffer
// as large as the whole memory, counted as fresh external memory: V8 answers with scavenges and
// incremental-marking steps whose cost grows with the JS heap, itself growing with the documents held.
// A cold join of n records grew the memory about n/2 times (34 KB a record), so the join cost O(n²)
// (applyContained alone: 1.6 ms a record at 1,000 records, 6 ms at 2,000). Allocating once and freeing
// leaves the space to Automerge's allocator (wasm memory never shrinks), and the documents fill it.
// Only a hint: if Automerge allocates differently, nothing breaks; the join is merely slower again.
import * as A from '@automerge/automerge';

/** Batches opening fewer documents than this grow the memory by too little to matter. */
export const RESERVE_MIN_DOCUMENTS = 64;
/** What a cold join grew Automerge's memory by per record (1,000 small records: 34 KB). */
export const RESERVE_PER_DOCUMENT = 32 * 1024;
const MAX_RESERVE = 256 * 1024 * 1024;
/** A document holding one bytes value of n bytes peaks at about 8n in Automerge 3.5 (copies in, op, change, patch). */
const PEAK_PER_BYTE = 8;

/** Make Automerge's memory about `bytes` (at most 256 MiB) larger than what it holds now, in one growth. */
export function reserveAutomergeMemory(bytes: number): void {
  const n = Math.floor(Math.min(bytes, MAX_RESERVE) / PEAK_PER_BYTE);
  if (n <= 0) return;
  try {
    A.free(A.from({ reserve: new Uint8Array(n) }));
  } catch {
    // A hint only: the batch is applied all the same.
  }
}
