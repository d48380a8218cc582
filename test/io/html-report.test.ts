import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EvalReportInput, renderEvalReport } from '../../src/io/html-report.js';
import { linearTicks, symlogTicks, xTicks } from '../../src/io/report-axis.js';
import { ENVELOPE_GAP, minMaxEnvelope } from '../../src/io/report-envelope.js';
import { escapeHtml, formatDurationMs, formatNumber, formatPercent, formatTimestampMs } from '../../src/io/report-format.js';

const NNBSP = '\u202f';
const NBSP = '\u00a0';

/** A small valid input: T rows of C channels, all zeros, scores 1, nothing flagged. */
function baseInput(T: number, C: number, over: Partial<EvalReportInput> = {}): EvalReportInput {
  return {
    title: 'convwatch eval — test.csv',
    generatedAt: '2024-03-08T12:00:00Z',
    modelName: 'tcn',
    modelSummary: 'TCN 2→8×2→2, receptive field 7',
    timesMs: null,
    channels: Array.from({ length: C }, (_, c) => `ch${c}`),
    values: new Float32Array(T * C),
    scores: new Float64Array(T).fill(1),
    threshold: 3,
    predicted: new Uint8Array(T),
    labels: null,
    contrib: null,
    metrics: [],
    ...over,
  };
}

/** Sets flags[start..end] (inclusive) to 1 for each range. */
function flags(T: number, ranges: readonly (readonly [number, number])[]): Uint8Array {
  const out = new Uint8Array(T);
  for (const [a, b] of ranges) out.fill(1, a, b + 1);
  return out;
}

const svgsOf = (html: string): string[] => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
const count = (text: string, needle: string): number => text.split(needle).length - 1;

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'area', 'base', 'wbr', 'source']);

interface Tag { name: string; closing: boolean; attrs: Map<string, string> }

/**
 * A strict reading of the page's tags: every attribute value double-quoted, every element closed
 * (void HTML elements excepted, SVG elements self-closed). Throws on anything else, so a test
 * fails on malformed markup or on markup that escaped from text.
 */
function parseTags(html: string): Tag[] {
  const body = html.replace(/<style>[\s\S]*?<\/style>/, '<style></style>').replace(/^<!DOCTYPE html>/, '');
  const tags: Tag[] = [];
  const stack: string[] = [];
  const tagRe = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    if (lt < 0) break;
    tagRe.lastIndex = lt;
    const m = tagRe.exec(body);
    if (m === null) throw new Error(`unparsable markup at ${lt}: ${body.slice(lt, lt + 80)}`);
    const [, slash, rawName, attrText, selfClose] = m;
    const name = rawName.toLowerCase();
    const attrs = new Map<string, string>();
    for (const a of attrText.matchAll(/([a-zA-Z][a-zA-Z0-9:-]*)="([^"]*)"/g)) attrs.set(a[1].toLowerCase(), a[2]);
    tags.push({ name, closing: slash === '/', attrs });
    if (slash === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (selfClose !== '/' && !VOID.has(name)) {
      stack.push(name);
    }
    i = lt + m[0].length;
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(' > ')}`);
  return tags;
}

/** Checks what every report must satisfy; returns the parsed tags. */
function expectSafePage(html: string): Tag[] {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(html.toLowerCase()).not.toContain('<script');
  expect(html).not.toMatch(/https?:\/\//i);
  const tags = parseTags(html);
  for (const tag of tags) {
    for (const [name, value] of tag.attrs) {
      expect(name.startsWith('on'), `event handler attribute ${name} on <${tag.name}>`).toBe(false);
      expect(['src', 'href', 'xlink:href', 'srcset', 'action']).not.toContain(name);
      expect(value.toLowerCase()).not.toContain('javascript:');
    }
    expect(['script', 'link', 'img', 'iframe', 'object', 'embed', 'foreignobject', 'a']).not.toContain(tag.name);
  }
  expect(tags.filter((t) => t.name === 'html' && !t.closing)).toHaveLength(1);
  return tags;
}

/** The geometry of a plot's area and the points of its first series path. */
function plotGeometry(svg: string): { x: number; y: number; w: number; h: number; points: [number, number][] } {
  const bg = /<rect class="plot-bg" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (bg === null) throw new Error('no plot-bg rect');
  const d = /<path class="series-[a-z]+" data-series="[^"]*" d="([^"]*)"/.exec(svg);
  const numbers = d === null ? [] : d[1].split(/[M\s]+/).filter((s) => s !== '').map(Number);
  const points: [number, number][] = [];
  for (let k = 0; k + 1 < numbers.length; k += 2) points.push([numbers[k], numbers[k + 1]]);
  return { x: Number(bg[1]), y: Number(bg[2]), w: Number(bg[3]), h: Number(bg[4]), points };
}

describe('text formatting', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('formats numbers for reading', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(3.21)).toBe('3.21');
    expect(formatNumber(0.912345)).toBe('0.9123');
    expect(formatNumber(1234.567)).toBe('1235');
    expect(formatNumber(12000)).toBe(`12${NNBSP}000`);
    expect(formatNumber(-1234567)).toBe(`-1${NNBSP}234${NNBSP}567`);
    expect(formatNumber(98765.4)).toBe(`98${NNBSP}765`);
    expect(formatNumber(0.00012)).toBe('1.2e-4');
    expect(formatNumber(1e-5)).toBe('1e-5');
    expect(formatNumber(2.5e17)).toBe('2.5e17');
    expect(formatNumber(0.1)).toBe('0.1');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(Infinity)).toBe('∞');
    expect(formatNumber(-Infinity)).toBe('-∞');
    expect(formatPercent(0.41234)).toBe(`41.2${NBSP}%`);
    expect(formatPercent(1)).toBe(`100${NBSP}%`);
  });

  it('formats durations and UTC timestamps', () => {
    expect(formatDurationMs(850)).toBe('850 ms');
    expect(formatDurationMs(12_500)).toBe('12.5 s');
    expect(formatDurationMs(200_000)).toBe('3 min 20 s');
    expect(formatDurationMs(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatDurationMs(7_200_000)).toBe('2 h');
    expect(formatDurationMs(3 * 86_400_000 + 4 * 3600_000)).toBe('3 d 4 h');
    expect(formatDurationMs(-1500)).toBe('-1.5 s');
    // 2024-03-01T06:00:00Z = 1709272800000 ms (date -u -d @1709272800).
    expect(formatTimestampMs(1_709_272_800_000)).toBe('2024-03-01 06:00:00');
    expect(formatTimestampMs(1_709_272_800_123)).toBe('2024-03-01 06:00:00.123');
    expect(formatTimestampMs(1e18)).toBe(`1e18 ms`);
  });
});

describe('axis ticks', () => {
  it('puts linear ticks at 1-2-5 steps', () => {
    expect(linearTicks(0, 1, 5).map((t) => t.value)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);
    expect(linearTicks(0, 1, 5).map((t) => t.label)).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1']);
    expect(linearTicks(-3, 17, 4).map((t) => t.value)).toEqual([0, 5, 10, 15]);
  });

  it('puts symlog ticks at 0 and decades of the linear width', () => {
    const ticks = symlogTicks({ kind: 'symlog', lo: 0, hi: 15_048, linearWidth: 1 });
    expect(ticks.map((t) => t.value)).toEqual([0, 1, 10, 100, 1000, 10_000]);
    expect(symlogTicks({ kind: 'symlog', lo: 0, hi: 0.5, linearWidth: 0.01 }).map((t) => t.value)).toEqual([0, 0.01, 0.1]);
  });

  it('labels time ticks as UTC clock times at round steps', () => {
    const start = 1_709_272_800_000; // 2024-03-01 06:00:00Z
    const ticks = xTicks(start, start + 4 * 3600_000, 5, 'absolute');
    expect(ticks.map((t) => t.label)).toEqual(['06:00', '07:00', '08:00', '09:00', '10:00']);
    const days = xTicks(start, start + 6 * 86_400_000, 4, 'absolute');
    expect(days.map((t) => t.label)).toEqual(['2024-03-02', '2024-03-04', '2024-03-06']);
    // 2 min in at most 4 intervals: 30 s steps.
    expect(xTicks(0, 120_000, 4, 'elapsed').map((t) => t.label)).toEqual(['0', '30 s', '1 min', '1 min 30 s', '2 min']);
  });
});

describe('minMaxEnvelope', () => {
  it('keeps each bucket’s minimum and maximum row, in row order (hand-checked)', () => {
    // Two buckets of four rows: [5, 1, 9, 2] → min at row 1, max at row 2; [3, 3, 0, 4] → rows 6, 7.
    expect(Array.from(minMaxEnvelope([5, 1, 9, 2, 3, 3, 0, 4], 8, 1, 0, 4))).toEqual([1, 2, 6, 7]);
    // Strided: channel 1 of a [4, 2] array is [10, 30, 20, 40].
    expect(Array.from(minMaxEnvelope([0, 10, 0, 30, 0, 20, 0, 40], 4, 2, 1, 2))).toEqual([0, 3]);
  });

  it('keeps every row of a short series and breaks the line at NaN runs', () => {
    expect(Array.from(minMaxEnvelope([NaN, 1, NaN, NaN, 2, 3, NaN], 7, 1, 0, 10))).toEqual([1, ENVELOPE_GAP, 4, 5]);
    expect(Array.from(minMaxEnvelope([NaN, NaN], 2, 1, 0, 10))).toEqual([]);
  });

  it('never keeps more than maxPoints rows and always keeps a one-row spike', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5000 }),
        fc.integer({ min: 2, max: 400 }),
        fc.nat(),
        fc.boolean(),
        (T, maxPoints, where, downward) => {
          const spikeRow = where % T;
          const data = new Float64Array(T);
          for (let t = 0; t < T; t++) data[t] = Math.sin(t * 0.37);
          data[spikeRow] = downward ? -100 : 100;
          const rows = Array.from(minMaxEnvelope(data, T, 1, 0, maxPoints));
          expect(rows.length).toBeLessThanOrEqual(maxPoints);
          expect(rows).toContain(spikeRow);
          for (let k = 1; k < rows.length; k++) expect(rows[k]).toBeGreaterThan(rows[k - 1]);
        },
      ),
      { seed: 20240308, numRuns: 200 },
    );
  });

  it('rejects bad arguments, naming them', () => {
    expect(() => minMaxEnvelope([1, 2], 2, 0, 0, 10)).toThrow(/stride/);
    expect(() => minMaxEnvelope([1, 2], 3, 1, 0, 10)).toThrow(/too few/);
    expect(() => minMaxEnvelope([1, 2], 2, 1, 0, 1)).toThrow(/maxPoints/);
  });
});

describe('renderEvalReport', () => {
  it('writes a well-formed, self-contained page with one <svg> per plot', () => {
    const T = 500;
    const html = renderEvalReport(baseInput(T, 3, {
      labels: flags(T, [[100, 120]]),
      predicted: flags(T, [[105, 130]]),
      metrics: [{ group: 'point-wise', name: 'precision', value: 0.8 }],
      notes: ['warm-up: 6 rows'],
    }));
    const tags = expectSafePage(html);
    expect(svgsOf(html)).toHaveLength(1 + 3);
    expect(tags.filter((t) => t.name === 'svg' && !t.closing)).toHaveLength(4);
    expect(tags.filter((t) => t.name === 'style' && !t.closing)).toHaveLength(1);
    expect(html).toContain('<li>warm-up: 6 rows</li>');
    expect(html).toContain('<title>convwatch eval — test.csv</title>');
    expect(html).toContain('Content-Security-Policy');
  });

  it('escapes hostile text everywhere it comes from the user', () => {
    const hostile = '<script>alert("x")</script>';
    const breakout = '"><img src=x onerror=alert(1)>';
    const T = 50;
    const contrib = new Float32Array(T * 2).fill(0.5);
    const html = renderEvalReport(baseInput(T, 2, {
      title: `report ${hostile}`,
      modelName: breakout,
      modelSummary: hostile,
      generatedAt: breakout,
      channels: [hostile, breakout],
      predicted: flags(T, [[10, 12]]),
      contrib,
      metrics: [{ group: hostile, name: breakout, value: 1, unit: hostile }],
      notes: [hostile],
    }), { maxChannelPlots: 1 });
    const tags = expectSafePage(html);
    expect(html).not.toContain('<img');
    expect(tags.some((t) => t.name === 'img')).toBe(false);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    // The hidden channel is named in the note, escaped too.
    expect(html).toMatch(/Not shown \(1 more[^<]*\): &(quot|lt);/);
  });

  it('keeps a one-row spike visible in a 200,000-row channel plot and score plot', () => {
    const T = 200_000;
    const spikeRow = 123_457;
    const values = new Float32Array(T);
    for (let t = 0; t < T; t++) values[t] = (t % 2) * 0.01; // a flat channel: 0, 0.01, 0, …
    values[spikeRow] = 100;
    const scores = new Float64Array(T).fill(1);
    scores[77_777] = 5000;
    const html = renderEvalReport(baseInput(T, 1, { values, scores }));
    const [scoreSvg, channelSvg] = svgsOf(html);

    const ch = plotGeometry(channelSvg);
    expect(ch.points.length).toBeGreaterThan(100);
    expect(ch.points.length).toBeLessThanOrEqual(1500);
    const top = ch.points.reduce((best, p) => (p[1] < best[1] ? p : best));
    // The spike is the highest point, in the top tenth of the plot area, at its row's x.
    expect(top[1]).toBeLessThan(ch.y + 0.1 * ch.h);
    expect(Math.abs(top[0] - (ch.x + (spikeRow / (T - 1)) * ch.w))).toBeLessThan(1);
    // Everything else lies at the bottom.
    const low = ch.points.filter((p) => p[1] > ch.y + 0.85 * ch.h);
    expect(low.length).toBe(ch.points.length - 1);

    const sc = plotGeometry(scoreSvg);
    expect(sc.points.length).toBeLessThanOrEqual(1500);
    const peak = sc.points.reduce((best, p) => (p[1] < best[1] ? p : best));
    expect(peak[1]).toBeLessThan(sc.y + 0.1 * sc.h);
    expect(Math.abs(peak[0] - (sc.x + (77_777 / (T - 1)) * sc.w))).toBeLessThan(1);
  });

  it('shades one band per labelled and per detected segment on every plot', () => {
    const T = 1000;
    const html = renderEvalReport(baseInput(T, 2, {
      labels: flags(T, [[100, 149], [400, 400], [700, 799]]),
      predicted: flags(T, [[120, 160], [950, 999]]),
    }));
    const svgs = svgsOf(html);
    expect(svgs).toHaveLength(3);
    for (const svg of svgs) {
      expect(count(svg, '<rect class="band-label"')).toBe(3);
      expect(count(svg, '<rect class="band-detected"')).toBe(2);
      const g = plotGeometry(svg);
      const first = /<rect class="band-label" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg);
      expect(first).not.toBeNull();
      // Rows 100..149 cover x(100) to x(150) on a row axis from 0 to 999.
      expect(Number(first?.[1])).toBeCloseTo(g.x + (100 / 999) * g.w, 0);
      expect(Number(first?.[2])).toBeCloseTo((50 / 999) * g.w, 0);
    }
    expect(html).not.toContain('band-label"/><title');
  });

  it('merges segments closer than a pixel into one band and says so', () => {
    const T = 200_000;
    const html = renderEvalReport(baseInput(T, 1, { labels: flags(T, [[1000, 1001], [1003, 1004]]) }));
    const [scoreSvg] = svgsOf(html);
    expect(count(scoreSvg, '<rect class="band-label"')).toBe(1);
    expect(scoreSvg).toContain('<title>2 segments, too close to draw apart</title>');
  });

  it('renders metric tables by group, with null as "—"', () => {
    const html = renderEvalReport(baseInput(10, 1, {
      metrics: [
        { group: 'point-wise', name: 'precision', value: null },
        { group: 'event-wise', name: 'median delay', value: 12_000, unit: 'ms' },
        { group: 'point-wise', name: 'recall', value: 0.912345 },
      ],
    }));
    expect(count(html, '<table class="metric-table">')).toBe(2);
    expect(html).toContain('<caption>point-wise</caption><tbody><tr><th scope="row">precision</th><td class="num">—</td></tr>' +
      '<tr><th scope="row">recall</th><td class="num">0.9123</td></tr></tbody>');
    expect(html).toContain(`<th scope="row">median delay</th><td class="num">12${NNBSP}000${NBSP}ms</td>`);
  });

  it('lists detected segments with peak score and top channels, and missed labelled segments', () => {
    const T = 100;
    const C = 3;
    const scores = new Float64Array(T).fill(1);
    scores[11] = 6;
    scores[12] = 9;
    scores[61] = 2.5;
    const contrib = new Float32Array(T * C).fill(1 / 3);
    for (let t = 10; t <= 14; t++) contrib.set([0.3, 0.6, 0.1], t * C);
    const times = Float64Array.from({ length: T }, (_, t) => 1_709_272_800_000 + t * 1000);
    const html = renderEvalReport(baseInput(T, C, {
      channels: ['a', 'b', 'c'],
      timesMs: times,
      scores,
      threshold: 3,
      predicted: flags(T, [[10, 14], [30, 30]]),
      labels: flags(T, [[8, 12], [60, 64]]),
      contrib,
    }));
    expectSafePage(html);
    const detected = /<table class="events detected">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const rows = detected.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(3); // header + 2 segments
    expect(rows[1]).toContain(`2024-03-01 06:00:10 <span class="row">row${NBSP}10</span>`);
    expect(rows[1]).toContain(`2024-03-01 06:00:14 <span class="row">row${NBSP}14</span>`);
    expect(rows[1]).toContain('<td class="num">5</td><td class="num">5 s</td>');
    expect(rows[1]).toContain('<td class="num">9</td><td class="num">×3</td>');
    expect(rows[1]).toContain('true alarm');
    expect(rows[1]).toContain(`b${NBSP}60${NBSP}%, a${NBSP}30${NBSP}%, c${NBSP}10${NBSP}%`);
    expect(rows[2]).toContain('false alarm');
    const missed = /<table class="events missed">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const missedRows = missed.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    expect(missedRows).toHaveLength(2);
    expect(missedRows[1]).toContain(`row${NBSP}60`);
    expect(missedRows[1]).toContain(`row${NBSP}64`);
    expect(missedRows[1]).toContain('<td class="num">2.5</td>');
    expect(html).toContain('Missed labelled segments (1 of 2)');
  });

  it('gives a page with a clear note for zero rows', () => {
    const html = renderEvalReport(baseInput(0, 2, { metrics: [{ group: 'g', name: 'n', value: null }] }));
    expectSafePage(html);
    expect(svgsOf(html)).toHaveLength(0);
    expect(html).toContain('The input has no rows: there is nothing to plot.');
    expect(html).toContain('The detector flagged no row.');
    expect(html).toContain('<td class="num">—</td>');
  });

  it('gives a page with a clear note when every score is NaN, still plotting the channels', () => {
    const T = 40;
    const html = renderEvalReport(baseInput(T, 2, { scores: new Float64Array(T).fill(NaN), timesMs: Float64Array.from({ length: T }, (_, t) => t * 500) }));
    expectSafePage(html);
    expect(html).toContain('No row has a score (all 40 are NaN, e.g. still in warm-up): the score plot is left out.');
    expect(svgsOf(html)).toHaveLength(2);
    expect(html).toContain('x: time since 0');
  });

  it('falls back to row numbers when times go backwards, with a note', () => {
    const times = Float64Array.from([0, 1000, 500, 2000]);
    const html = renderEvalReport(baseInput(4, 1, { timesMs: times }));
    expect(html).toContain('timesMs[2] (500) is earlier than the row before: the x axes show row numbers instead of times.');
    expect(html).toContain('x: row number');
  });

  it('handles 52 channels: 24 plots, most attributed first, the rest named', () => {
    const T = 3000;
    const C = 52;
    const contrib = new Float32Array(T * C).fill(1 / C);
    const predicted = flags(T, [[1000, 1099], [2000, 2049]]);
    for (let t = 1000; t <= 1099; t++) { contrib.fill(0, t * C, (t + 1) * C); contrib[t * C + 37] = 0.7; contrib[t * C + 12] = 0.3; }
    for (let t = 2000; t <= 2049; t++) { contrib.fill(0, t * C, (t + 1) * C); contrib[t * C + 12] = 1; }
    // Totals during detections: ch37 = 70, ch12 = 30 + 50 = 80, all others 0.
    const values = Float32Array.from({ length: T * C }, (_, i) => Math.sin(i * 0.01));
    const html = renderEvalReport(baseInput(T, C, { contrib, predicted, values }));
    expectSafePage(html);
    expect(svgsOf(html)).toHaveLength(1 + 24);
    const captions = [...html.matchAll(/<span class="name" title="([^"]*)">(\d+)\. /g)].map((m) => m[1]);
    expect(captions.slice(0, 4)).toEqual(['ch12', 'ch37', 'ch0', 'ch1']);
    expect(html).toContain(`ch12</span><span class="share">53.3${NBSP}% of attribution</span>`);
    const hidden = /Not shown \(28 more, in the same order\): ([^<]*)\./.exec(html);
    expect(hidden?.[1].split(', ')).toHaveLength(28);
    // Shown: ch12, ch37, then ch0..ch11 and ch13..ch22 (22 in file order); hidden from ch23 on.
    expect(hidden?.[1].startsWith('ch23, ch24, ')).toBe(true);
    expect(hidden?.[1].endsWith(', ch50, ch51')).toBe(true);
    expect(hidden?.[1]).not.toContain('ch37');
  });

  it('stays small for T = 200,000 and C = 52', () => {
    const T = 200_000;
    const C = 52;
    const values = new Float32Array(T * C);
    for (let i = 0; i < values.length; i++) values[i] = (i % 977) * 0.001;
    const scores = Float64Array.from({ length: T }, (_, t) => (t < 125 ? NaN : 1 + (t % 101) / 50));
    const contrib = new Float32Array(T * C).fill(1 / C);
    const html = renderEvalReport(baseInput(T, C, {
      values, scores, contrib,
      timesMs: Float64Array.from({ length: T }, (_, t) => 1_709_272_800_000 + t * 1000),
      labels: flags(T, [[50_000, 50_500], [150_000, 151_000]]),
      predicted: flags(T, [[50_100, 50_600], [90_000, 90_010]]),
    }));
    expect(html.length).toBeLessThan(1_000_000);
    for (const svg of svgsOf(html)) expect(plotGeometry(svg).points.length).toBeLessThanOrEqual(1500);
  });

  it('rejects inputs whose shapes disagree, naming the field', () => {
    expect(() => renderEvalReport(baseInput(10, 2, { values: new Float32Array(19) }))).toThrow(/values has length 19, expected T·C = 20/);
    expect(() => renderEvalReport(baseInput(10, 2, { predicted: new Uint8Array(9) }))).toThrow(/predicted has length 9/);
    expect(() => renderEvalReport(baseInput(10, 2, { contrib: new Float32Array(10) }))).toThrow(/contrib has length 10/);
    expect(() => renderEvalReport(baseInput(4, 1, { labels: Uint8Array.from([0, 1, 2, 0]) }))).toThrow(/labels\[2\] is 2, expected 0 or 1/);
    expect(() => renderEvalReport(baseInput(4, 1), { maxChannelPlots: 0 })).toThrow(/maxChannelPlots must be an integer ≥ 1, got 0/);
  });
});
