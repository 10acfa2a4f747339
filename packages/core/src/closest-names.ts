/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/**
 * The names closest to `wanted` (at most `count`), best first. A name that contains what was typed
 * (`/build` for `/packages/web/build`) ranks with the nearest typos: in a monorepo the segment a user
 * remembers is a better guide than edit distance, which would prefer any short name.
 */
export function closestNames(wanted: string, names: Iterable<string>, count = 3): string[] {
  const w = wanted.toLowerCase();
  return [...names]
    .map((name) => {
      const n = name.toLowerCase();
      const d = distance(w, n);
      return { name, d: n.includes(w) || w.includes(n) ? Math.min(d, 1) : d };
    })
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, count)
    .map((x) => x.name);
}

/**
 * The one name close enough to `wanted` to be what was meant (a typo, another case, a word cut short), for
 * "did you mean" in messages about keys and fixed words: at most a third of its length in edits (at least
 * one), so that `lib` does not suggest `bin`. Undefined when none is that close.
 */
export function closestName(wanted: string, names: Iterable<string>): string | undefined {
  const w = wanted.toLowerCase();
  const limit = Math.max(1, Math.ceil(w.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const n = name.toLowerCase();
    // a word cut short (`sha` for `sha256`) is as good a guess as one typo; under 3 letters it is noise
    const d = Math.min(w.length, n.length) >= 3 && (n.includes(w) || w.includes(n)) ? 1
      // the distance is at least the difference in length: a huge value costs nothing
      : Math.abs(n.length - w.length) > limit ? Infinity : distance(w, n);
    if (d <= limit && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}
