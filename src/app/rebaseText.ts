// Three-way text merge for one form edit: the form changed `base` into `draft` while the stored text
// moved on to `current` (another tab, sync). Re-apply the form's one edited region to `current`,
// found by its surrounding context, so edits elsewhere in the text are kept. Undefined when the
// region can't be placed unambiguously (the caller then saves the draft as is).
const SIZES = [32, 16, 8, 4, 2, 1, 0];
const MIN_NEEDLE = 4;

export function rebaseText(base: string, draft: string, current: string): string | undefined {
  if (current === base) return draft;
  if (draft === base) return current;
  let p = 0;
  const max = Math.min(base.length, draft.length);
  while (p < max && base[p] === draft[p]) p++;
  let s = 0;
  while (s < max - p && base[base.length - 1 - s] === draft[draft.length - 1 - s]) s++;
  const removed = base.slice(p, base.length - s);
  const inserted = draft.slice(p, draft.length - s);
  // Widest context first (safest); narrower when a concurrent edit touched the nearby text.
  for (const kb of SIZES) {
    for (const ka of SIZES) {
      const before = base.slice(Math.max(0, p - kb), p);
      const after = base.slice(base.length - s, base.length - s + ka);
      const needle = before + removed + after;
      if (needle.length < Math.min(MIN_NEEDLE, base.length) || needle.length === 0) continue;
      const at = current.indexOf(needle);
      if (at < 0 || current.indexOf(needle, at + 1) >= 0) continue;
      const start = at + before.length;
      return current.slice(0, start) + inserted + current.slice(start + removed.length);
    }
  }
  return undefined;
}
