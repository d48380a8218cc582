/**
 * An SVG line plot for the HTML report: series drawn from min/max envelopes, shaded bands over
 * row ranges, horizontal reference lines, and axes. Styling is left to CSS classes.
 */
import { type AxisTick, type ValueScale, type XAxisMode, transformValue, valueTicks, xTicks } from './report-axis.js';
import { ENVELOPE_GAP, minMaxEnvelope } from './report-envelope.js';
import { escapeHtml } from './report-format.js';

/** One line: row `t` has the value `data[offset + t * stride]`; `NaN` breaks the line. */
export interface PlotSeries {
  readonly data: ArrayLike<number>;
  readonly stride: number;
  readonly offset: number;
  /** CSS class of the `<path>`. */
  readonly className: string;
  /** Written to the path's `data-series` attribute (escaped). */
  readonly name: string;
}

/** A shaded vertical band over the rows `start..end` (inclusive). */
export interface PlotBand {
  readonly start: number;
  readonly end: number;
  /**
   * CSS class of the `<rect>`; bands of the same class that touch at the plot's resolution merge.
   * Each class also gets a thin lane under the plot area (class `<className>-lane`), so bands of
   * different classes stay apart where they overlap.
   */
  readonly className: string;
  /** Tooltip text (an SVG `<title>`), or none. */
  readonly title?: string;
}

/** A horizontal reference line at a value of the y axis, labelled at its right end. */
export interface PlotLine {
  /** y value, data units. */
  readonly value: number;
  /** CSS class of the `<line>`. */
  readonly className: string;
  /** Text at the line's right end (escaped). */
  readonly label: string;
}

/** Everything {@link renderLinePlot} draws. */
export interface LinePlotSpec {
  /** Width of the SVG viewport in CSS px (the image scales down with the page). */
  readonly widthPx: number;
  /** Height of the SVG viewport in CSS px. */
  readonly heightPx: number;
  /** `'full'`: roomy axes with more ticks; `'compact'`: small multiples. */
  readonly layout: 'full' | 'compact';
  /** T, the number of rows. Must be ≥ 1. */
  readonly rowCount: number;
  /** x of each row, shape `[T]`, non-decreasing (epoch or elapsed ms); `null`: the row index. */
  readonly xValues: Float64Array | null;
  /** How x tick labels read. */
  readonly xMode: XAxisMode;
  /** The y axis; values beyond it are drawn at its edge. */
  readonly yScale: ValueScale;
  /** Lines, drawn in order over the bands. */
  readonly series: readonly PlotSeries[];
  /** Shaded row ranges, in row order within each class. */
  readonly bands: readonly PlotBand[];
  /** Horizontal reference lines; one outside the y axis is not drawn. */
  readonly lines: readonly PlotLine[];
  /** Accessible name of the image. */
  readonly ariaLabel: string;
  /** Largest number of points per series (see {@link minMaxEnvelope}). */
  readonly maxPoints: number;
}

interface Margins { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number }

const MARGINS: Readonly<Record<LinePlotSpec['layout'], Margins>> = {
  full: { left: 62, right: 14, top: 10, bottom: 36 },
  compact: { left: 46, right: 8, top: 6, bottom: 25 },
};

/** Height in px of the lanes under the plot area that repeat the bands, one lane per band class. */
const LANE_HEIGHT: Readonly<Record<LinePlotSpec['layout'], number>> = { full: 4, compact: 3 };

/** Rounds a pixel coordinate to 0.1 px: precise enough on screen, and short in the file. */
function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/**
 * Renders one plot as an `<svg>` element (no `xmlns`: it is meant to be inlined in HTML).
 *
 * @throws RangeError when `rowCount < 1` or the y scale is empty (`hi <= lo`)
 */
export function renderLinePlot(spec: LinePlotSpec): string {
  if (spec.rowCount < 1) throw new RangeError(`renderLinePlot: rowCount must be ≥ 1, got ${spec.rowCount}`);
  if (!(spec.yScale.hi > spec.yScale.lo)) {
    throw new RangeError(`renderLinePlot: yScale needs hi > lo, got lo ${spec.yScale.lo}, hi ${spec.yScale.hi}`);
  }
  const m = MARGINS[spec.layout];
  const plotW = spec.widthPx - m.left - m.right;
  const plotH = spec.heightPx - m.top - m.bottom;
  const T = spec.rowCount;
  const xOf = (row: number): number => (spec.xValues === null ? row : spec.xValues[row]);
  let x0 = xOf(0);
  let x1 = xOf(T - 1);
  if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
  const xPx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * plotW;
  const scale = spec.yScale;
  const t0 = transformValue(scale, scale.lo);
  const t1 = transformValue(scale, scale.hi);
  const yPx = (v: number): number => {
    const clamped = Math.min(scale.hi, Math.max(scale.lo, v));
    return m.top + plotH * (1 - (transformValue(scale, clamped) - t0) / (t1 - t0));
  };

  const parts: string[] = [];
  parts.push(
    `<svg class="plot plot-${spec.layout}" width="${spec.widthPx}" height="${spec.heightPx}" ` +
      `viewBox="0 0 ${spec.widthPx} ${spec.heightPx}" role="img" aria-label="${escapeHtml(spec.ariaLabel)}">`,
  );
  parts.push(`<rect class="plot-bg" x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}"/>`);
  parts.push(renderBands(spec, (row) => xPx(xOf(row)), m.top, plotH, LANE_HEIGHT[spec.layout]));
  const approxX = spec.layout === 'full' ? Math.max(2, Math.floor(plotW / 110)) : 4;
  const approxY = spec.layout === 'full' ? 5 : 4;
  parts.push(renderXAxis(xTicks(x0, x1, approxX, spec.xMode), xPx, m, plotH, spec.layout, spec.widthPx));
  parts.push(renderYAxis(valueTicks(scale, approxY), yPx, m, plotW, scale));
  for (const series of spec.series) {
    const rows = minMaxEnvelope(series.data, T, series.stride, series.offset, spec.maxPoints);
    const d = pathData(rows, (row) => xPx(xOf(row)), (row) => yPx(series.data[series.offset + row * series.stride]));
    if (d !== '') parts.push(`<path class="${series.className}" data-series="${escapeHtml(series.name)}" d="${d}"/>`);
  }
  for (const line of spec.lines) {
    if (!(line.value >= scale.lo && line.value <= scale.hi)) continue;
    const y = px(yPx(line.value));
    parts.push(`<line class="${line.className}" x1="${m.left}" x2="${m.left + plotW}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="line-label" x="${m.left + plotW - 4}" y="${px(yPx(line.value) - 4)}" text-anchor="end">${escapeHtml(line.label)}</text>`);
  }
  parts.push(`<rect class="plot-frame" x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** `M x y x y …` with a new `M` after each gap; empty when no row has a value. */
function pathData(rows: Int32Array, xAt: (row: number) => number, yAt: (row: number) => number): string {
  const out: string[] = [];
  let move = true;
  for (const row of rows) {
    if (row === ENVELOPE_GAP) { move = true; continue; }
    out.push(`${move ? 'M' : ''}${px(xAt(row))} ${px(yAt(row))}`);
    move = false;
  }
  return out.join(' ');
}

interface PixelBand { x0: number; x1: number; count: number; title: string | undefined }

function renderBands(spec: LinePlotSpec, xAtRow: (row: number) => number, top: number, height: number, laneHeight: number): string {
  const byClass = new Map<string, PixelBand[]>();
  for (const band of spec.bands) {
    const x0 = xAtRow(band.start);
    // A band covers its rows up to where the next row begins, and is at least 1 px wide.
    const x1 = Math.max(x0 + 1, xAtRow(Math.min(band.end + 1, spec.rowCount - 1)));
    let list = byClass.get(band.className);
    if (list === undefined) { list = []; byClass.set(band.className, list); }
    const last = list.length > 0 ? list[list.length - 1] : undefined;
    if (last !== undefined && x0 <= last.x1 + 0.5) {
      last.x1 = Math.max(last.x1, x1);
      last.count++;
    } else {
      list.push({ x0, x1, count: 1, title: band.title });
    }
  }
  const out: string[] = [];
  let laneY = top + height + 1;
  for (const [className, list] of byClass) {
    for (const b of list) {
      const title = b.count > 1 ? `${b.count} segments, too close to draw apart` : b.title;
      const x = px(b.x0);
      const width = px(b.x1 - b.x0);
      const rect = `<rect class="${className}" x="${x}" y="${top}" width="${width}" height="${height}"`;
      out.push(title === undefined ? `${rect}/>` : `${rect}><title>${escapeHtml(title)}</title></rect>`);
      out.push(`<rect class="${className}-lane" x="${x}" y="${laneY}" width="${width}" height="${laneHeight}"/>`);
    }
    laneY += laneHeight + 1;
  }
  return out.join('');
}

/** Rough width of a tick label's character in px (digits in a system sans-serif), per layout. */
const TICK_CHAR_PX: Readonly<Record<LinePlotSpec['layout'], number>> = { full: 6.2, compact: 5.4 };

function renderXAxis(
  ticks: readonly AxisTick[], xPx: (x: number) => number, m: Margins, plotH: number, layout: LinePlotSpec['layout'], widthPx: number,
): string {
  const out: string[] = [];
  const yBase = m.top + plotH;
  const labelY = yBase + (layout === 'full' ? 27 : 20);
  for (const tick of ticks) {
    const xValue = xPx(tick.value);
    const x = px(xValue);
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${m.top}" y2="${yBase}"/>`);
    // A label that would stick out of the image is left off rather than cut or moved off its tick.
    const halfWidth = (tick.label.length * TICK_CHAR_PX[layout]) / 2;
    if (xValue - halfWidth < 0 || xValue + halfWidth > widthPx) continue;
    out.push(`<text class="tick" x="${x}" y="${labelY}" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
  }
  return out.join('');
}

function renderYAxis(
  ticks: readonly AxisTick[], yPx: (v: number) => number, m: Margins, plotW: number, scale: ValueScale,
): string {
  const out: string[] = [];
  for (const tick of ticks) {
    if (tick.value < scale.lo || tick.value > scale.hi) continue;
    const y = px(yPx(tick.value));
    out.push(`<line class="grid" x1="${m.left}" x2="${m.left + plotW}" y1="${y}" y2="${y}"/>`);
    out.push(`<text class="tick" x="${m.left - 4}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(tick.label)}</text>`);
  }
  return out.join('');
}
