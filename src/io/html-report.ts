/**
 * The HTML page of `convwatch eval --report <file>`: what a person looks at to decide whether to
 * trust a detector. One self-contained document (inline CSS and inline SVG; no script, no font,
 * no link to anything), so it opens offline from a file and carries its data with it.
 */
import type { ValueScale } from './report-axis.js';
import { renderChannelGrid } from './report-channel-grid.js';
import { type ReportContext, type ReportXAxis, plotLegend, rowPosition, segmentBands, xAxisCaption } from './report-context.js';
import { renderEventsSection } from './report-events-section.js';
import { runsOfOnes } from './report-events.js';
import { escapeHtml, formatDurationMs, formatNumber } from './report-format.js';
import { renderLinePlot } from './report-line-plot.js';
import { REPORT_CSS } from './report-style.js';
import { EPOCH_MS_THRESHOLD } from './time-parse.js';

/** One metric row; rows are grouped into one table per `group`, in order of first appearance. */
export interface EvalReportMetric {
  group: string;
  name: string;
  /** The value; `null` (undefined, e.g. precision without predictions) is shown as "—". */
  value: number | null;
  /** Unit written after the value (e.g. `ms`, `rows`), or none. */
  unit?: string;
}

/** Everything the evaluation report shows. All series share the row index t = 0..T−1. */
export interface EvalReportInput {
  /** Page title, e.g. `convwatch eval — test-fault01.csv`. */
  title: string;
  /** When the report was made (ISO 8601 text, shown as given; the report reads no clock). */
  generatedAt: string;
  modelName: string;
  /** One line about the model, e.g. `TCN 52→32×5→52, receptive field 125, threshold pot 3.21`. */
  modelSummary: string;
  /** Time of each row in ms, shape `[T]` (epoch ms from 1973 on are shown as UTC dates, smaller values as elapsed time); `null`: x axes show row numbers. */
  timesMs: Float64Array | null;
  /** Channel names, `[C]` (from user CSV headers: always escaped). */
  channels: readonly string[];
  /** Raw readings, shape `[T, C]` row-major. */
  values: Float32Array;
  /** Anomaly score per row, shape `[T]`, `NaN` where no score is ready (warm-up). */
  scores: Float64Array;
  /** Alarm threshold on the score; a non-finite value is reported and not drawn. */
  threshold: number;
  /** Detector output per row, 0 or 1, shape `[T]`. */
  predicted: Uint8Array;
  /** Ground truth per row, 0 or 1, shape `[T]`, or `null`. */
  labels: Uint8Array | null;
  /** Attribution shares per row and channel, shape `[T, C]` row-major, or `null`. */
  contrib: Float32Array | null;
  metrics: readonly EvalReportMetric[];
  /** Free text lines shown near the top (data issues, warm-up length, …). */
  notes?: readonly string[];
}

/** Limits of {@link renderEvalReport}; every field is optional. */
export interface EvalReportOptions {
  /** Channel plots shown, most implicated first; the rest are named in a note. Default {@link DEFAULT_MAX_CHANNEL_PLOTS}. */
  maxChannelPlots?: number;
  /** Rows per events table; the rest are counted in a note. Default {@link DEFAULT_MAX_EVENT_ROWS}. */
  maxEventRows?: number;
  /** Points per drawn series (min/max envelope; see `minMaxEnvelope`). Default {@link DEFAULT_MAX_POINTS_PER_SERIES}. */
  maxPointsPerSeries?: number;
}

/** Default of {@link EvalReportOptions.maxChannelPlots}. */
export const DEFAULT_MAX_CHANNEL_PLOTS = 24;
/** Default of {@link EvalReportOptions.maxEventRows}. */
export const DEFAULT_MAX_EVENT_ROWS = 200;
/** Default of {@link EvalReportOptions.maxPointsPerSeries}. */
export const DEFAULT_MAX_POINTS_PER_SERIES = 1500;

const SCORE_PLOT_SIZE = { widthPx: 1320, heightPx: 300 } as const;
/** Scores spanning this many times their typical size get a symmetric-log axis. */
const SYMLOG_MIN_RATIO = 30;

/**
 * Renders the whole evaluation report as one HTML document.
 *
 * The page has: a header (title, model, time, data facts); notes; metric tables by group; the
 * score plot (symmetric-log y axis when scores are heavy-tailed, threshold line); one small plot per
 * channel, most implicated first; and the events tables (detected segments with peak score and top
 * 3 channels; missed labelled segments). Every plot shades labelled segments and detected
 * segments (maximal runs of `predicted = 1`) in two colours. Plots are downsampled with min/max
 * envelopes, so a T = 200,000 input gives a page of a few hundred kB where one-row spikes stay
 * visible. No rows, or no score at all, give a page that says so.
 *
 * @throws RangeError when an array's length does not fit T = `scores.length` and C =
 *   `channels.length`, when `predicted`/`labels` hold a value other than 0 or 1, or when an option
 *   is not a positive integer (each message names the field and the value)
 */
export function renderEvalReport(input: EvalReportInput, options: EvalReportOptions = {}): string {
  const limits = checkOptions(options);
  const { T, C } = checkInput(input);
  const notes = [...(input.notes ?? [])];
  const axis = xAxisOf(input.timesMs, T, notes);
  let scoredRows = 0;
  for (const s of input.scores) if (!Number.isNaN(s)) scoredRows++;
  if (T === 0) notes.push('The input has no rows: there is nothing to plot.');
  else if (scoredRows === 0) notes.push(`No row has a score (all ${T} are NaN, e.g. still in warm-up): the score plot is left out.`);
  if (!Number.isFinite(input.threshold)) notes.push(`The threshold is ${formatNumber(input.threshold)}, not a finite number: no threshold line is drawn.`);
  const ctx: ReportContext = {
    input, T, C, axis, limits,
    labelRuns: input.labels === null ? null : runsOfOnes(input.labels),
    detectedRuns: runsOfOnes(input.predicted),
  };
  const body = [
    renderHeader(ctx, scoredRows),
    notes.length === 0 ? '' : `<section class="notes"><h2>Notes</h2><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`,
    renderMetrics(input.metrics),
    renderScoreSection(ctx, scoredRows),
    renderChannelGrid(ctx),
    renderEventsSection(ctx),
  ].join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Belt and braces: even if markup slipped through, the page may run no script and load nothing.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body><main>',
    body,
    '<footer>convwatch evaluation report · self-contained: no scripts, no network · times in UTC</footer>',
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

function checkOptions(options: EvalReportOptions): Required<EvalReportOptions> {
  const limits = {
    maxChannelPlots: options.maxChannelPlots ?? DEFAULT_MAX_CHANNEL_PLOTS,
    maxEventRows: options.maxEventRows ?? DEFAULT_MAX_EVENT_ROWS,
    maxPointsPerSeries: options.maxPointsPerSeries ?? DEFAULT_MAX_POINTS_PER_SERIES,
  };
  for (const [name, value] of Object.entries(limits)) {
    const least = name === 'maxPointsPerSeries' ? 2 : 1;
    if (!Number.isInteger(value) || value < least) throw new RangeError(`renderEvalReport: ${name} must be an integer ≥ ${least}, got ${value}`);
  }
  return limits;
}

function checkInput(input: EvalReportInput): { T: number; C: number } {
  const T = input.scores.length;
  const C = input.channels.length;
  const expectLength = (field: string, actual: number, expected: number, shape: string): void => {
    if (actual !== expected) throw new RangeError(`renderEvalReport: ${field} has length ${actual}, expected ${shape} = ${expected} (T = ${T} from scores, C = ${C} from channels)`);
  };
  expectLength('values', input.values.length, T * C, 'T·C');
  expectLength('predicted', input.predicted.length, T, 'T');
  if (input.labels !== null) expectLength('labels', input.labels.length, T, 'T');
  if (input.contrib !== null) expectLength('contrib', input.contrib.length, T * C, 'T·C');
  if (input.timesMs !== null) expectLength('timesMs', input.timesMs.length, T, 'T');
  const checkBinary = (field: string, flags: Uint8Array): void => {
    const bad = flags.findIndex((v) => v > 1);
    if (bad >= 0) throw new RangeError(`renderEvalReport: ${field}[${bad}] is ${flags[bad]}, expected 0 or 1`);
  };
  checkBinary('predicted', input.predicted);
  if (input.labels !== null) checkBinary('labels', input.labels);
  return { T, C };
}

function xAxisOf(timesMs: Float64Array | null, T: number, notes: string[]): ReportXAxis {
  if (timesMs === null || T === 0) return { values: null, mode: 'index' };
  for (let t = 0; t < T; t++) {
    const problem = !Number.isFinite(timesMs[t]) ? 'is not finite'
      : t > 0 && timesMs[t] < timesMs[t - 1] ? 'is earlier than the row before' : '';
    if (problem !== '') {
      notes.push(`timesMs[${t}] (${formatNumber(timesMs[t])}) ${problem}: the x axes show row numbers instead of times.`);
      return { values: null, mode: 'index' };
    }
  }
  return { values: timesMs, mode: timesMs[0] >= EPOCH_MS_THRESHOLD ? 'absolute' : 'elapsed' };
}

function fact(name: string, valueHtml: string): string {
  return `<dt>${escapeHtml(name)}</dt><dd>${valueHtml}</dd>`;
}

function renderHeader(ctx: ReportContext, scoredRows: number): string {
  const { input, T, C } = ctx;
  const times = ctx.axis.values;
  let rows = `${formatNumber(T)}`;
  if (T > 0 && times !== null) {
    rows += ` · ${escapeHtml(rowPosition(ctx, 0))} → ${escapeHtml(rowPosition(ctx, T - 1))} (${escapeHtml(formatDurationMs(times[T - 1] - times[0]))})`;
  }
  const unscored = T - scoredRows;
  const facts = [
    fact('Model', `<strong>${escapeHtml(input.modelName)}</strong> — ${escapeHtml(input.modelSummary)}`),
    fact('Generated', escapeHtml(input.generatedAt)),
    fact('Rows', rows),
    fact('Channels', formatNumber(C)),
    fact('Scored rows', `${formatNumber(scoredRows)}${unscored > 0 ? ` <span class="muted">(${formatNumber(unscored)} without a score)</span>` : ''}`),
    fact('Threshold', escapeHtml(formatNumber(input.threshold))),
    fact('Labelled segments', ctx.labelRuns === null ? '<span class="muted">no labels</span>' : formatNumber(ctx.labelRuns.length)),
    fact('Detected segments', formatNumber(ctx.detectedRuns.length)),
  ];
  return `<header><h1>${escapeHtml(input.title)}</h1><dl class="facts">${facts.join('')}</dl></header>`;
}

function formatMetricValue(value: number | null, unit: string | undefined): string {
  if (value === null) return '—';
  const text = formatNumber(value);
  return unit === undefined || unit === '' ? text : `${text}\u00a0${unit}`;
}

function renderMetrics(metrics: readonly EvalReportMetric[]): string {
  if (metrics.length === 0) return '<section class="metrics"><h2>Metrics</h2><p class="empty">No metrics were given.</p></section>';
  const groups = new Map<string, EvalReportMetric[]>();
  for (const metric of metrics) {
    const list = groups.get(metric.group);
    if (list === undefined) groups.set(metric.group, [metric]);
    else list.push(metric);
  }
  const tables = [...groups].map(([group, rows]) =>
    `<table class="metric-table"><caption>${escapeHtml(group)}</caption><tbody>` +
    rows.map((r) => `<tr><th scope="row">${escapeHtml(r.name)}</th><td class="num">${escapeHtml(formatMetricValue(r.value, r.unit))}</td></tr>`).join('') +
    '</tbody></table>');
  return `<section class="metrics"><h2>Metrics</h2><div class="metric-groups">${tables.join('')}</div></section>`;
}

/** Linear, or symmetric-log when the scores are heavy-tailed relative to their median. */
function scoreScale(scores: Float64Array, threshold: number): ValueScale {
  const finite = scores.filter((s) => Number.isFinite(s));
  let lo = Math.min(0, ...(finite.length > 0 ? [finite.reduce((a, b) => Math.min(a, b))] : []));
  let hi = finite.length > 0 ? finite.reduce((a, b) => Math.max(a, b)) : 1;
  if (Number.isFinite(threshold)) { lo = Math.min(lo, threshold); hi = Math.max(hi, threshold); }
  if (!(hi > lo)) hi = lo + 1;
  const positive = finite.filter((s) => s > 0).sort();
  const median = positive.length > 0 ? positive[positive.length >> 1] : 1;
  const linearWidth = 10 ** Math.round(Math.log10(median));
  if (hi / linearWidth >= SYMLOG_MIN_RATIO && lo >= -linearWidth) {
    // 5 % headroom in the transformed space, so the peak does not touch the frame.
    const top = linearWidth * (10 ** (1.05 * Math.log10(1 + hi / linearWidth)) - 1);
    return { kind: 'symlog', lo, hi: top, linearWidth };
  }
  return { kind: 'linear', lo, hi: hi + 0.05 * (hi - lo), linearWidth };
}

function renderScoreSection(ctx: ReportContext, scoredRows: number): string {
  const head = '<section class="score"><h2>Anomaly score</h2>';
  if (ctx.T === 0) return `${head}<p class="empty">No rows.</p></section>`;
  if (scoredRows === 0) return `${head}<p class="empty">No score to plot: every score is NaN.</p></section>`;
  const { input } = ctx;
  const scale = scoreScale(input.scores, input.threshold);
  const plot = renderLinePlot({
    ...SCORE_PLOT_SIZE,
    layout: 'full',
    rowCount: ctx.T,
    xValues: ctx.axis.values,
    xMode: ctx.axis.mode,
    yScale: scale,
    series: [{ data: input.scores, stride: 1, offset: 0, className: 'series-score', name: 'score' }],
    bands: segmentBands(ctx, true),
    lines: Number.isFinite(input.threshold) ? [{ value: input.threshold, className: 'hline-threshold', label: `threshold ${formatNumber(input.threshold)}` }] : [],
    ariaLabel: 'anomaly score over time',
    maxPoints: ctx.limits.maxPointsPerSeries,
  });
  const yCaption = scale.kind === 'symlog'
    ? `y: score on a symmetric-log axis (linear below ${formatNumber(scale.linearWidth)}, logarithmic above)`
    : 'y: score, linear axis';
  return `${head}${plotLegend(ctx, 'score', Number.isFinite(input.threshold))}${plot}` +
    `<p class="muted">${escapeHtml(`${yCaption}; ${xAxisCaption(ctx)}. Each line keeps the minimum and maximum of every pixel column, so single-row spikes stay visible.`)}</p></section>`;
}
