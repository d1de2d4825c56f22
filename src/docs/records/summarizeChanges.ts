// What a set of Automerge changes touched, in record terms ('title', 'notes', 'fields.KEY', …), read
// from the decoded ops: objects are mapped to the top-level key (or fields.KEY) that created them.
import * as A from '@automerge/automerge';

/** Map every change hash to the record paths it touched. `changes` must be the doc's full history, in order. */
export function touchedPathsByChange(changes: readonly A.DecodedChange[]): Map<string, Set<string>> {
  const objPath = new Map<string, string>([['_root', '']]);
  const out = new Map<string, Set<string>>();
  for (const c of changes) {
    const touched = new Set<string>();
    c.ops.forEach((op, i) => {
      const parent = objPath.get(op.obj);
      const key = String((op as { key?: unknown }).key ?? '');
      const name = parent === undefined ? '?' : parent === '' ? key : parent === 'fields' && !(op as { insert?: boolean }).insert ? `fields.${key}` : parent;
      if (op.action.startsWith('make')) objPath.set(`${c.startOp + i}@${c.actor}`, name);
      if (name) touched.add(name);
    });
    out.set(c.hash, touched);
  }
  return out;
}
