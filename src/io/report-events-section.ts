/**
 * The events section of the HTML evaluation report: the detected segments (where, how long, how
 * high, true or false alarm, which channels) and the labelled segments the detector missed.
 */
import type { ReportContext } from './report-context.js';
import { rowPosition } from './report-context.js';
import { type DetectedSegment, type MissedSegment, type RowRun, describeDetectedSegments, missedSegments } from './report-events.js';
import { escapeHtml, formatDurationMs, formatNumber, formatPercent } from './report-format.js';

/** Channels named per detected segment. */
const TOP_CHANNELS_PER_EVENT = 3;

/** Renders the `<section>` with both events tables, each capped at `ctx.limits.maxEventRows` rows. */
export function renderEventsSection(ctx: ReportContext): string {
  const { input } = ctx;
  const detected = describeDetectedSegments(ctx.detectedRuns, input.scores, input.labels, input.contrib, ctx.C, TOP_CHANNELS_PER_EVENT);
  const missed = ctx.labelRuns === null ? null : missedSegments(ctx.labelRuns, input.predicted, input.scores);
  const missedCount = missed === null || ctx.labelRuns === null ? '' : ` (${formatNumber(missed.length)} of ${formatNumber(ctx.labelRuns.length)})`;
  return '<section class="events-section"><h2>Events</h2>' +
    `<h3>Detected segments (${formatNumber(detected.length)})</h3>${renderDetectedTable(ctx, detected)}` +
    `<h3>Missed labelled segments${missedCount}</h3>${renderMissedTable(ctx, missed)}</section>`;
}

function renderDetectedTable(ctx: ReportContext, segments: readonly DetectedSegment[]): string {
  if (segments.length === 0) return '<p class="empty">The detector flagged no row.</p>';
  const withLabels = ctx.labelRuns !== null;
  const withContrib = ctx.input.contrib !== null;
  const extra = [...(withLabels ? ['labelled?'] : []), ...(withContrib ? ['top channels (mean attribution)'] : [])];
  const shown = segments.slice(0, ctx.limits.maxEventRows);
  const rows = shown.map((seg, i) => {
    const cells = [`<td class="num">${i + 1}</td>`, positionCell(ctx, seg.start), positionCell(ctx, seg.end), lengthCells(ctx, seg), peakCells(ctx, seg.peakScore)];
    if (withLabels) {
      cells.push(seg.overlapsLabel === true ? '<td><span class="tag tag-true">true alarm</span></td>' : '<td><span class="tag tag-false">false alarm</span></td>');
    }
    if (withContrib) {
      const top = seg.topChannels.map((s) => `${escapeHtml(ctx.input.channels[s.channel])}\u00a0${formatPercent(s.meanShare)}`);
      cells.push(`<td>${top.length === 0 ? '—' : top.join(', ')}</td>`);
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="events detected">${tableHead(ctx, extra)}<tbody>${rows.join('')}</tbody></table>` +
    cappedNote(shown.length, segments.length, 'detected segments');
}

function renderMissedTable(ctx: ReportContext, missed: readonly MissedSegment[] | null): string {
  if (missed === null) return '<p class="empty">No labels were given, so missed anomalies cannot be listed.</p>';
  if (missed.length === 0) return '<p class="empty">None: every labelled segment has at least one detected row.</p>';
  const shown = missed.slice(0, ctx.limits.maxEventRows);
  const rows = shown.map((seg, i) =>
    `<tr><td class="num">${i + 1}</td>${positionCell(ctx, seg.start)}${positionCell(ctx, seg.end)}${lengthCells(ctx, seg)}${peakCells(ctx, seg.peakScore)}</tr>`);
  return `<table class="events missed">${tableHead(ctx, [])}<tbody>${rows.join('')}</tbody></table>` +
    cappedNote(shown.length, missed.length, 'missed segments');
}

function tableHead(ctx: ReportContext, extra: readonly string[]): string {
  const position = ctx.axis.values === null ? ['start row', 'end row'] : ['start', 'end'];
  const length = ctx.axis.values === null ? ['rows'] : ['rows', 'duration'];
  const cols = ['#', ...position, ...length, 'peak score', 'peak / threshold', ...extra];
  return `<thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
}

function positionCell(ctx: ReportContext, t: number): string {
  if (ctx.axis.values === null) return `<td class="num">${formatNumber(t)}</td>`;
  return `<td class="pos">${escapeHtml(rowPosition(ctx, t))} <span class="row">row\u00a0${t}</span></td>`;
}

/** Rows, and with times the duration from the first row to the row after the last (a 1-row segment lasts one step). */
function lengthCells(ctx: ReportContext, run: RowRun): string {
  const rows = `<td class="num">${formatNumber(run.end - run.start + 1)}</td>`;
  const times = ctx.axis.values;
  if (times === null) return rows;
  const until = run.end + 1 < ctx.T ? run.end + 1 : run.end;
  return `${rows}<td class="num">${escapeHtml(formatDurationMs(times[until] - times[run.start]))}</td>`;
}

function peakCells(ctx: ReportContext, peak: number | null): string {
  const threshold = ctx.input.threshold;
  const ratio = peak !== null && Number.isFinite(threshold) && threshold > 0 ? `×${formatNumber(peak / threshold)}` : '—';
  return `<td class="num">${peak === null ? '—' : escapeHtml(formatNumber(peak))}</td><td class="num">${escapeHtml(ratio)}</td>`;
}

function cappedNote(shown: number, total: number, what: string): string {
  return shown < total ? `<p class="muted">Showing the first ${formatNumber(shown)} of ${formatNumber(total)} ${what}.</p>` : '';
}
