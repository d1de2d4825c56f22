// The log of every value the simulated users typed, per record and path ('title', 'fields.KEY'), so the
// end-of-run comparison can check that nobody is shown a value nobody typed (DESIGN → Documents and
// changes). A value is logged before the call that writes it: typed is typed, whether or not the call
// then resolved.

/** Values typed into a record created by a call that threw before naming its id. */
export const UNKNOWN_RECORD = '*';

export class TypedValues {
  readonly #byPath = new Map<string, Set<string>>();
  #count = 0;

  /** Someone typed `value` at `path` of record `recordId`. */
  add(recordId: string, path: string, value: string): void {
    const key = `${recordId}\u0000${path}`;
    let s = this.#byPath.get(key);
    if (!s) this.#byPath.set(key, (s = new Set()));
    if (!s.has(value)) {
      s.add(value);
      this.#count++;
    }
  }

  /** Did anyone type `value` at `path` of `recordId`? */
  has(recordId: string, path: string, value: string): boolean {
    return !!this.#byPath.get(`${recordId}\u0000${path}`)?.has(value) || !!this.#byPath.get(`${UNKNOWN_RECORD}\u0000${path}`)?.has(value);
  }

  /** Distinct (record, path, value) triples logged. */
  get size(): number {
    return this.#count;
  }
}
