/**
 * "Did you mean" for misspelt option names: the closest candidate by edit distance, compared
 * case-insensitively and ignoring `_` and `-` (so `client_id` finds `clientId`).
 */

/** Normalised form used for comparisons: lower case without `_` and `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate closest to `name`, or null when none is close: equal after normalisation, at
 * most 2 edits away (1 for names of up to 4 characters), or else the only candidate that starts
 * with a name of at least 4 characters (`keepalive` → `keepaliveSeconds`).
 */
export function closestName(name: string, candidates: readonly string[]): string | null {
  const n = normalizeName(name);
  const best = closestByEdits(n, candidates);
  if (best !== null || n.length < 4) return best;
  const extended = candidates.filter((c) => normalizeName(c).startsWith(n));
  return extended.length === 1 ? extended[0] : null;
}

function closestByEdits(n: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = n.length <= 4 ? 1 : 2;
  for (const c of candidates) {
    const dist = editDistance(n, normalizeName(c));
    if (dist === 0) return c;
    if (dist <= bestDistance && (best === null || dist < bestDistance)) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}
