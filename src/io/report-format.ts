/**
 * Text for the HTML evaluation report: escaping and short, readable numbers, durations and times.
 * Pure functions; nothing here reads a clock (a timestamp is formatted, never taken).
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML and SVG element content and for quoted attribute values: `& < > " '`
 * become character references, so text from user files (CSV headers) can never open a tag.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/** Thousands separator: a narrow no-break space (SI style), the same in every locale. */
const GROUP = '\u202f';

function groupThousands(integer: number): string {
  const digits = String(Math.abs(integer));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, GROUP);
  return integer < 0 ? `-${grouped}` : grouped;
}

/**
 * Formats a number for a person: integers in full with grouped thousands (`12 345`); other values
 * with 4 significant digits and no trailing zeros (`3.21`, `0.0125`); magnitudes from 1e4 rounded
 * to an integer; below 1e-3 or from 1e15 in exponent form (`1.23e-5`). `NaN` is `NaN`, infinities
 * are `∞` / `-∞`, and `-0` is `0`.
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '-∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e15 || abs < 1e-3) return value.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  if (Number.isInteger(value) || abs >= 1e4) return groupThousands(Math.round(value));
  const text = value.toPrecision(4);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * Formats a duration in milliseconds with its unit: `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`,
 * `3 d 4 h`. Negative durations get a leading `-`; non-finite ones are written as numbers.
 */
export function formatDurationMs(durationMs: number): string {
  if (!Number.isFinite(durationMs)) return formatNumber(durationMs);
  if (durationMs < 0) return `-${formatDurationMs(-durationMs)}`;
  if (durationMs < 1000) return `${formatNumber(durationMs)} ms`;
  if (durationMs < 60_000) return `${formatNumber(Number((durationMs / 1000).toPrecision(3)))} s`;
  const totalSeconds = Math.round(durationMs / 1000);
  if (totalSeconds < 3600) return joinUnits(Math.floor(totalSeconds / 60), 'min', totalSeconds % 60, 's');
  const totalMinutes = Math.round(durationMs / 60_000);
  if (totalMinutes < 1440) return joinUnits(Math.floor(totalMinutes / 60), 'h', totalMinutes % 60, 'min');
  const totalHours = Math.round(durationMs / 3_600_000);
  return joinUnits(Math.floor(totalHours / 24), 'd', totalHours % 24, 'h');
}

function joinUnits(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}

/** Epoch ms of 0000-01-01 and 10000-01-01 UTC: the range where ISO strings have 4-digit years. */
const MIN_ISO_MS = -62_167_219_200_000;
const END_ISO_MS = 253_402_300_800_000;

/**
 * Formats epoch milliseconds as a UTC date-time `YYYY-MM-DD hh:mm:ss`, with `.mmm` only when the
 * time has a millisecond part. Values outside the years 0000–9999 are written as numbers with `ms`.
 */
export function formatTimestampMs(epochMs: number): string {
  if (!(epochMs >= MIN_ISO_MS && epochMs < END_ISO_MS)) return `${formatNumber(epochMs)} ms`;
  const iso = new Date(epochMs).toISOString();
  const text = iso.slice(0, 10) + ' ' + iso.slice(11, 23);
  return text.endsWith('.000') ? text.slice(0, -4) : text;
}

/** Formats a share (0..1) as a percentage with 3 significant digits: `0.4123` → `41.2 %`. */
export function formatPercent(share: number): string {
  return `${formatNumber(Number((share * 100).toPrecision(3)))}\u00a0%`;
}
