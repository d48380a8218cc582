/**
 * A simulator config that cannot be used, as data: the option's path (`anomalies[2].channels[0]`),
 * the offending value and what was expected. The message reads
 * `simulator config: <path> <expected>, got <value>`.
 */
export class SimulatorConfigError extends Error {
  override readonly name = 'SimulatorConfigError';

  constructor(
    /** Path of the bad option, e.g. `rows` or `anomalies[0].startRow`. */
    readonly path: string,
    /** The value found there. */
    readonly value: unknown,
    /** What the option must be, e.g. `must be a positive integer`. */
    readonly expected: string,
  ) {
    super(`simulator config: ${path} ${expected}, got ${formatValue(value)}`);
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
