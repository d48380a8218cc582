import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer option in [min, max]; the error names the range and value. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got '${value}'`);
    return n;
  };
}

/** A commander parser for a number in (min, max] (or [min, max] with `inclusiveMin`). */
export function numberArg(min: number, max: number, inclusiveMin = false): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    const okMin = inclusiveMin ? n >= min : n > min;
    if (!Number.isFinite(n) || !okMin || n > max) throw new InvalidArgumentError(`expected a number ${inclusiveMin ? '≥' : '>'} ${min} and ≤ ${max}, got '${value}'`);
    return n;
  };
}
