/**
 * Axis scales and tick marks for the report's SVG plots: linear and symmetric-log value axes,
 * row-index axes, and time axes (UTC date-times or elapsed time).
 */
import { formatDurationMs, formatNumber, formatTimestampMs } from './report-format.js';

/** A tick mark: where (in data units) and what it says. */
export interface AxisTick {
  readonly value: number;
  readonly label: string;
}

/**
 * A value (y) axis. `'symlog'` maps `v` to `sign(v) · log10(1 + |v| / linearWidth)`: linear near
 * zero (within about `linearWidth`), logarithmic beyond, and defined at 0, which a log axis is not.
 */
export interface ValueScale {
  readonly kind: 'linear' | 'symlog';
  /** Lower end of the axis, data units. */
  readonly lo: number;
  /** Upper end of the axis, data units; `> lo`. */
  readonly hi: number;
  /** Width of the linear region of `'symlog'`, data units, `> 0`; ignored by `'linear'`. */
  readonly linearWidth: number;
}

/** How the x axis reads: row numbers, UTC date-times (epoch ms), or time since 0 (ms). */
export type XAxisMode = 'index' | 'absolute' | 'elapsed';

/** Maps a data value through the scale's transform (identity for `'linear'`). */
export function transformValue(scale: ValueScale, value: number): number {
  if (scale.kind === 'linear') return value;
  return Math.sign(value) * Math.log10(1 + Math.abs(value) / scale.linearWidth);
}

/** The step among 1, 2, 5 × 10^k nearest above `span / approxCount`; 1 for an empty span. */
export function niceStep(span: number, approxCount: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, approxCount);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Ticks at multiples of a nice step within `[lo, hi]`, about `approxCount` of them. */
export function linearTicks(lo: number, hi: number, approxCount: number, minStep = 0): AxisTick[] {
  const step = Math.max(minStep, niceStep(hi - lo, approxCount));
  const ticks: AxisTick[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    const value = k * step + 0; // + 0 turns -0 into 0
    ticks.push({ value, label: formatNumber(Number(value.toPrecision(12))) });
  }
  return ticks;
}

/** Ticks of a `'symlog'` scale: 0 and `±linearWidth · 10^k` within the axis, every decade or every other. */
export function symlogTicks(scale: ValueScale): AxisTick[] {
  const values: number[] = [];
  if (scale.lo <= 0 && scale.hi >= 0) values.push(0);
  const limit = Math.max(Math.abs(scale.lo), Math.abs(scale.hi));
  const decades = Math.floor(Math.log10(limit / scale.linearWidth)) + 1;
  const every = decades > 7 ? 2 : 1;
  for (let k = 0; k < decades; k += every) {
    const magnitude = Number((scale.linearWidth * 10 ** k).toPrecision(12));
    if (magnitude <= scale.hi) values.push(magnitude);
    if (-magnitude >= scale.lo) values.unshift(-magnitude);
  }
  return values.map((value) => ({ value, label: formatNumber(value) }));
}

/** Ticks for a value axis of either kind, about `approxCount` for a linear one. */
export function valueTicks(scale: ValueScale, approxCount: number): AxisTick[] {
  return scale.kind === 'linear' ? linearTicks(scale.lo, scale.hi, approxCount) : symlogTicks(scale);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Time steps that read well on an axis, in ms; beyond the last, whole days in 1-2-5 steps. */
const TIME_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY,
];

function timeStep(span: number, approxCount: number): number {
  for (const step of TIME_STEPS_MS) if (span / step <= approxCount) return step;
  return Math.max(DAY, niceStep(span / DAY, approxCount) * DAY);
}

/**
 * Ticks for an x axis over `[lo, hi]`: row numbers (whole steps) for `'index'`; UTC clock times
 * at round steps for `'absolute'` (with the date when the axis spans days); elapsed durations for
 * `'elapsed'`.
 */
export function xTicks(lo: number, hi: number, approxCount: number, mode: XAxisMode): AxisTick[] {
  if (mode === 'index') return linearTicks(lo, hi, approxCount, 1);
  const step = timeStep(hi - lo, approxCount);
  const ticks: AxisTick[] = [];
  const spansDays = Math.floor(lo / DAY) !== Math.floor(hi / DAY);
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) {
    const value = k * step;
    ticks.push({ value, label: mode === 'elapsed' ? elapsedLabel(value) : clockLabel(value, step, spansDays) });
  }
  return ticks;
}

function elapsedLabel(valueMs: number): string {
  return valueMs === 0 ? '0' : formatDurationMs(valueMs);
}

function clockLabel(epochMs: number, stepMs: number, spansDays: boolean): string {
  const text = formatTimestampMs(epochMs); // "YYYY-MM-DD hh:mm:ss[.mmm]"
  if (text.endsWith(' ms')) return text; // out of the ISO range: already a plain number
  if (stepMs >= DAY) return text.slice(0, 10);
  const datePart = spansDays ? text.slice(5, 11) : '';
  if (stepMs < SECOND) return datePart + text.slice(11, 19) + '.' + String(((epochMs % SECOND) + SECOND) % SECOND).padStart(3, '0');
  if (stepMs < MINUTE) return datePart + text.slice(11, 19);
  return datePart + text.slice(11, 16);
}
