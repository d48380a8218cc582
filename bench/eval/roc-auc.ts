/**
 * Threshold-free separation of two score samples: the area under the ROC curve, computed as the
 * Mann–Whitney statistic (probability that a random positive scores above a random negative,
 * ties counting one half).
 */

/**
 * ROC AUC of `positives` against `negatives` (NaN scores are left out).
 * @returns a value in [0, 1]; 0.5 means no separation; null when either sample is empty.
 */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number | null {
  const all: Array<{ s: number; pos: boolean }> = [];
  for (let i = 0; i < positives.length; i++) if (!Number.isNaN(positives[i])) all.push({ s: positives[i] as number, pos: true });
  for (let i = 0; i < negatives.length; i++) if (!Number.isNaN(negatives[i])) all.push({ s: negatives[i] as number, pos: false });
  const nPos = all.filter((x) => x.pos).length;
  const nNeg = all.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  all.sort((a, b) => a.s - b.s);
  // Sum of the positives' ranks (1-based), tied scores sharing their average rank.
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && (all[j + 1] as { s: number }).s === (all[i] as { s: number }).s) j++;
    const avgRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if ((all[k] as { pos: boolean }).pos) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
