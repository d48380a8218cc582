/**
 * Derives independent 32-bit seeds from one user seed and a path of names, so that every
 * random stream of the simulator (one per device, per channel, per anomaly) has its own
 * generator. A stream's seed depends only on the user seed and its own path: adding a device
 * or a channel never shifts the draws of another one.
 */

/**
 * Seed for the stream named by `parts` under `seed`.
 * @param seed a safe integer (any sign); both its low and high 32-bit words take part.
 * @param parts names of the stream, outermost first (e.g. device id, `'noise'`, channel name).
 * @returns an unsigned 32-bit integer, suitable for `new Rng(seed)`.
 * @throws Error when `seed` is not a safe integer.
 */
export function deriveSeed(seed: number, ...parts: readonly string[]): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ (Math.floor(seed / 4294967296) >>> 0));
  for (const part of parts) {
    // FNV-1a over UTF-16 code units, with the length folded in so ['ab','c'] ≠ ['a','bc'].
    h = Math.imul(h ^ part.length, 0x01000193) >>> 0;
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193) >>> 0;
    h = fmix32(h);
  }
  return h;
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
