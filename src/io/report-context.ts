/**
 * What every section of the HTML evaluation report reads: the checked input, its x axis, the
 * segments, the limits; and the few helpers that turn rows into words and bands.
 */
import type { EvalReportInput, EvalReportOptions } from './html-report.js';
import type { XAxisMode } from './report-axis.js';
import type { RowRun } from './report-events.js';
import { escapeHtml, formatDurationMs, formatTimestampMs } from './report-format.js';
import type { PlotBand } from './report-line-plot.js';

/** The x axis of every plot: times per row (`[T]`, finite, non-decreasing) or row numbers. */
export interface ReportXAxis {
  readonly values: Float64Array | null;
  readonly mode: XAxisMode;
}

/** A checked report input with what is derived from it once. */
export interface ReportContext {
  readonly input: EvalReportInput;
  /** Rows. */
  readonly T: number;
  /** Channels. */
  readonly C: number;
  readonly axis: ReportXAxis;
  /** Maximal runs of `labels = 1`; `null` without labels. */
  readonly labelRuns: readonly RowRun[] | null;
  /** Maximal runs of `predicted = 1`. */
  readonly detectedRuns: readonly RowRun[];
  readonly limits: Required<EvalReportOptions>;
}

/** Where row `t` is in the x axis's terms: a UTC time, an elapsed time, or `row t`. */
export function rowPosition(ctx: ReportContext, t: number): string {
  const times = ctx.axis.values;
  if (times === null) return `row ${t}`;
  if (ctx.axis.mode === 'absolute') return formatTimestampMs(times[t]);
  return times[t] === 0 ? 't = 0' : `t = ${formatDurationMs(times[t])}`;
}

/** What the x axis shows, for a caption. */
export function xAxisCaption(ctx: ReportContext): string {
  return ctx.axis.mode === 'index' ? 'x: row number' : ctx.axis.mode === 'absolute' ? 'x: time (UTC)' : 'x: time since 0';
}

/** Shaded bands for the labelled and the detected segments, with tooltips when `withTitles`. */
export function segmentBands(ctx: ReportContext, withTitles: boolean): PlotBand[] {
  const bands: PlotBand[] = [];
  const span = (run: RowRun): string => `${rowPosition(ctx, run.start)} – ${rowPosition(ctx, run.end)}`;
  for (const run of ctx.labelRuns ?? []) {
    bands.push({ start: run.start, end: run.end, className: 'band-label', title: withTitles ? `labelled: ${span(run)}` : undefined });
  }
  for (const run of ctx.detectedRuns) {
    bands.push({ start: run.start, end: run.end, className: 'band-detected', title: withTitles ? `detected: ${span(run)}` : undefined });
  }
  return bands;
}

/** The legend above a plot: its line, the threshold when drawn, and the band colours in use. */
export function plotLegend(ctx: ReportContext, line: 'score' | 'reading', withThreshold: boolean): string {
  const lineClass = line === 'score' ? 'sw-score' : 'sw-channel';
  const items = [`<span><span class="swatch ${lineClass}"></span>${escapeHtml(line)}</span>`];
  if (withThreshold) items.push('<span><span class="swatch sw-threshold"></span>threshold</span>');
  if (ctx.labelRuns !== null) items.push('<span><span class="swatch sw-label"></span>labelled anomaly</span>');
  items.push('<span><span class="swatch sw-detected"></span>detected (predicted = 1)</span>');
  if (ctx.labelRuns !== null) items.push('<span><span class="swatch sw-both"></span>both</span>');
  return `<div class="legend">${items.join('')}</div>`;
}
