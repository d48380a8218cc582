import type { PaddingMode } from './conv1d-options.js';

/**
 * Where padded position `p` (0-based, counting `padLeft` padding columns first) reads from in an
 * input of `length` columns: the source column, or −1 for a zero. Callers have already checked
 * that the padding is legal for the mode (reflect < length, circular ≤ length).
 */
export function paddedSourceIndex(p: number, padLeft: number, length: number, mode: PaddingMode): number {
  const i = p - padLeft;
  if (i >= 0 && i < length) return i;
  switch (mode) {
    case 'zeros':
      return -1;
    case 'reflect':
      return i < 0 ? -i : 2 * (length - 1) - i;
    case 'replicate':
      return i < 0 ? 0 : length - 1;
    case 'circular':
      return ((i % length) + length) % length;
  }
}
