/**
 * Device patterns pick the model of a device: glob-like, matched against the whole device id.
 * `*` matches any run of characters (also none), `?` exactly one character; everything else is
 * literal and case-sensitive. `[`, `]`, `{`, `}` and `\` are refused, so nobody mistakes them for
 * the character classes or alternatives of shell globs, and `/`, `+`, `#` are refused because a
 * device id (one topic level) can never contain them.
 */

const FORBIDDEN = /[[\]{}\\/+#\u0000]/;

/** What is wrong with a device pattern, as the end of "… must be …", or null when it is fine. */
export function devicePatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must be a non-empty pattern (use "*" for every device)';
  const bad = FORBIDDEN.exec(pattern);
  if (bad !== null) {
    return `must not contain ${JSON.stringify(bad[0])}: only * (any characters) and ? (one character) are wildcards, and device ids never contain /, + or #`;
  }
  return null;
}

/**
 * Compiles a pattern into a predicate over device ids. Runs in O(pattern × id) without regular
 * expressions, so any id is safe.
 * @throws Error naming the pattern when {@link devicePatternProblem} finds a problem.
 */
export function compileDevicePattern(pattern: string): (device: string) => boolean {
  const problem = devicePatternProblem(pattern);
  if (problem !== null) throw new Error(`device pattern ${JSON.stringify(pattern)} ${problem}`);
  const p = [...pattern];
  if (!p.includes('*') && !p.includes('?')) return (device) => device === pattern;
  return (device) => globMatches(p, [...device]);
}

/** Iterative wildcard match with single-star backtracking (the classic linear-space algorithm). */
function globMatches(p: readonly string[], s: readonly string[]): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** One entry of the `models` list as the selector needs it. */
export interface DevicePatternRule<T> {
  readonly devices: readonly string[];
  readonly value: T;
}

/**
 * Builds the device → model lookup of the `models` list: the first entry with a matching pattern
 * wins; null when none matches (the caller dead-letters such readings as `unknown-device`).
 * @throws Error for a bad pattern.
 */
export function createDeviceSelector<T>(rules: readonly DevicePatternRule<T>[]): (device: string) => T | null {
  const compiled = rules.map((r) => ({ tests: r.devices.map(compileDevicePattern), value: r.value }));
  return (device) => {
    for (const rule of compiled) if (rule.tests.some((t) => t(device))) return rule.value;
    return null;
  };
}
