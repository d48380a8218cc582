/**
 * The channels section of the HTML evaluation report: one small plot of raw readings per channel,
 * the channels most implicated in the detections first.
 */
import type { ReportContext } from './report-context.js';
import { plotLegend, segmentBands, xAxisCaption } from './report-context.js';
import type { ValueScale } from './report-axis.js';
import { attributionDuringDetections } from './report-events.js';
import { escapeHtml, formatNumber, formatPercent } from './report-format.js';
import { renderLinePlot } from './report-line-plot.js';

const CHANNEL_PLOT_SIZE = { widthPx: 330, heightPx: 124 } as const;

/** Channel order for the plots, and why; `shares` (`[C]`, summing to 1) when ordered by attribution. */
export interface ChannelOrder {
  readonly order: readonly number[];
  readonly shares: Float64Array | null;
  readonly why: string;
}

/**
 * Orders channels by their total attribution share over the rows predicted 1, largest first (ties
 * in file order); in file order when there are no attributions or no attribution in detections.
 */
export function channelOrder(ctx: ReportContext): ChannelOrder {
  const fileOrder = Array.from({ length: ctx.C }, (_, c) => c);
  const { contrib, predicted } = ctx.input;
  if (contrib === null) return { order: fileOrder, shares: null, why: 'in file order (no attributions were given)' };
  const totals = attributionDuringDetections(predicted, contrib, ctx.C);
  const sum = totals.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) return { order: fileOrder, shares: null, why: 'in file order (no attribution during detected segments)' };
  fileOrder.sort((a, b) => totals[b] - totals[a] || a - b);
  return { order: fileOrder, shares: totals.map((v) => v / sum), why: 'by their share of the attribution during detected segments, most implicated first' };
}

/** y axis of one channel: its finite range with 5 % room, or a small range around a constant. */
function channelScale(values: Float32Array, T: number, C: number, c: number): ValueScale {
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < T; t++) {
    const v = values[t * C + c];
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  if (lo > hi) return { kind: 'linear', lo: 0, hi: 1, linearWidth: 1 };
  const pad = hi > lo ? 0.05 * (hi - lo) : Math.max(Math.abs(hi) * 0.05, 0.5);
  return { kind: 'linear', lo: lo - pad, hi: hi + pad, linearWidth: 1 };
}

/** Renders the `<section>` with at most `ctx.limits.maxChannelPlots` plots; the rest are named. */
export function renderChannelGrid(ctx: ReportContext): string {
  const head = `<section class="channels"><h2>Channels (${formatNumber(ctx.C)})</h2>`;
  if (ctx.C === 0) return `${head}<p class="empty">No channels.</p></section>`;
  if (ctx.T === 0) return `${head}<p class="empty">No rows to plot.</p></section>`;
  const { order, shares, why } = channelOrder(ctx);
  const shown = order.slice(0, ctx.limits.maxChannelPlots);
  const hidden = order.slice(shown.length);
  const bands = segmentBands(ctx, false);
  // About two points per pixel column are all a small plot can show.
  const maxPoints = Math.min(ctx.limits.maxPointsPerSeries, 2 * CHANNEL_PLOT_SIZE.widthPx);
  const figures = shown.map((c, rank) => {
    const name = ctx.input.channels[c];
    const share = shares === null ? '' : `<span class="share">${formatPercent(shares[c])} of attribution</span>`;
    const plot = renderLinePlot({
      ...CHANNEL_PLOT_SIZE,
      layout: 'compact',
      rowCount: ctx.T,
      xValues: ctx.axis.values,
      xMode: ctx.axis.mode,
      yScale: channelScale(ctx.input.values, ctx.T, ctx.C, c),
      series: [{ data: ctx.input.values, stride: ctx.C, offset: c, className: 'series-channel', name }],
      bands,
      lines: [],
      ariaLabel: `readings of channel ${name}`,
      maxPoints,
    });
    return `<figure><figcaption><span class="name" title="${escapeHtml(name)}">${rank + 1}. ${escapeHtml(name)}</span>${share}</figcaption>${plot}</figure>`;
  });
  const intro = `<p class="muted">${escapeHtml(`Raw readings, ordered ${why}. ${xAxisCaption(ctx)}.`)}</p>`;
  const rest = hidden.length === 0 ? ''
    : `<p class="muted">Not shown (${formatNumber(hidden.length)} more, in the same order): ${hidden.map((c) => escapeHtml(ctx.input.channels[c])).join(', ')}.</p>`;
  return `${head}${intro}${plotLegend(ctx, 'reading', false)}<div class="channel-grid">${figures.join('')}</div>${rest}</section>`;
}
