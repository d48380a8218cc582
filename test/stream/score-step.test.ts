import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Detector, DetectorBatch } from '../../src/detect/detector.js';
import { DeviceSlots } from '../../src/stream/route-models.js';
import { scoreStep, type DetectorSlots, type ScoreStepOptions } from '../../src/stream/score-step.js';
import type { InboundMessage, ReadingChunk, ScoredPoint } from '../../src/stream/types.js';
import { message, recorder, testScheduler, type Recorder } from './stream-fixtures.js';
import { tinyDetector, tinySeries } from './tiny-detector.js';

const detector = tinyDetector();
const C = 2;

/** A chunk of `device` holding rows `from..from+n` of `series`, at times 1000·row. */
function chunkOf(device: string, series: Float32Array, from: number, n: number, model = 'tiny'): ReadingChunk {
  return {
    device,
    model,
    tags: { device },
    timesMs: Float64Array.from({ length: n }, (_, k) => 1000 * (from + k)),
    values: series.slice(from * C, (from + n) * C),
    sources: Array.from({ length: n }, (_, k) => [message(`t/${device}`, `${from + k}`, 1000 * (from + k), from + k)]),
  };
}

/** The points of `chunks` (one device) as a lone DetectorStream scores them: the reference. */
function alone(chunks: ReadingChunk[], d: Detector = detector): ScoredPoint[] {
  const stream = d.createStream();
  const out: ScoredPoint[] = [];
  for (const c of chunks) {
    for (let k = 0; k < c.timesMs.length; k++) {
      const r = stream.push(c.values.subarray(k * C, (k + 1) * C), c.timesMs[k] as number);
      out.push({
        device: c.device,
        model: c.model,
        tags: c.tags,
        timeMs: c.timesMs[k] as number,
        ready: r.ready,
        score: r.score,
        threshold: r.threshold,
        anomaly: r.anomaly,
        exceeded: r.exceeded,
        contrib: Float32Array.from(r.contrib),
        event: r.event,
        sources: c.sources[k] as InboundMessage[],
      });
    }
  }
  return out;
}

/** A model's batch with counted observe calls (rows per call). */
function counted(batch: DetectorBatch): { slots: DetectorSlots; calls: number[] } {
  const calls: number[] = [];
  const observe = batch.observe.bind(batch);
  batch.observe = (slots, count, readings, times) => {
    calls.push(count);
    return observe(slots, count, readings, times);
  };
  const cap = new DeviceSlots(batch.capacity);
  return { slots: { batch, slotOf: (d) => cap.slotOf(d) }, calls };
}

function options(rec: Recorder, slots: DetectorSlots, extra: Partial<ScoreStepOptions> = {}): ScoreStepOptions {
  return { ...rec, detectorFor: (model) => (model === 'tiny' ? slots : null), ...extra };
}

const series = tinySeries(80, 3, 9);

describe('scoreStep', () => {
  it('empty: completes with nothing', () => {
    const ts = testScheduler();
    const { slots } = counted(detector.createBatch(4));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold<ReadingChunk>('|').pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('|');
    });
  });

  it('one value: a one-reading chunk is one point in the same frame, warming up', () => {
    const ts = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const a = chunkOf('d1', series, 0, 1);
    const [p] = alone([a]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a', { a }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('-p', { p });
    });
    expect(p?.ready).toBe(false);
    expect(p?.score).toBeNaN();
    expect(calls).toEqual([1]);
  });

  it('many values: devices of a round step together column by column, each in its own order', () => {
    const ts = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const a1 = chunkOf('d1', series, 0, 3);
    const b1 = chunkOf('d2', series, 10, 2);
    const a2 = chunkOf('d1', series, 3, 4);
    const b2 = chunkOf('d2', series, 12, 4);
    const pa = alone([a1, a2]);
    const pb = alone([b1, b2]);
    ts.run(({ cold, expectObservable }) => {
      // Round 1 at frame 0: d1 has 3 readings, d2 has 2 → columns of 2, 2, 1 rows.
      // Round 2 at frame 13: d1 and d2 have 4 each → 4 columns of 2 rows.
      const out = cold('(ab) 9ms (cd) 9ms |', { a: a1, b: b1, c: a2, d: b2 }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })));
      const v = { a: pa[0], b: pb[0], c: pa[1], d: pb[1], e: pa[2], f: pa[3], g: pb[2], h: pa[4], i: pb[3], j: pa[5], k: pb[4], l: pa[6], m: pb[5] };
      expectObservable(out).toBe('(abcde) 6ms (fghijklm) 3ms |', v);
    });
    expect(calls).toEqual([2, 2, 1, 2, 2, 2, 2]);
    // The stream warms up over the receptive field and then scores.
    expect(pa.filter((p) => p.ready).length).toBe(7 - detector.warmupReadings);
  });

  it('tells onStep the duration and the device count of every batched observe call', () => {
    const ts = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const steps: [number, number][] = [];
    const a = chunkOf('d1', series, 0, 3);
    const b = chunkOf('d2', series, 10, 2);
    let points = 0;
    ts.run(({ cold }) => {
      cold('(ab)|', { a, b })
        .pipe(scoreStep({ ...options(recorder(), slots, { scheduler: ts }), onStep: (seconds, devices) => steps.push([seconds, devices]) }))
        .subscribe(() => points++);
    });
    expect(points).toBe(5);
    expect(steps.map(([, devices]) => devices)).toEqual(calls);
    expect(steps.map(([, devices]) => devices)).toEqual([2, 2, 1]);
    for (const [seconds] of steps) expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('several chunks of one device in a round are stepped one after the other', () => {
    const ts = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const a = chunkOf('d1', series, 0, 2);
    const b = chunkOf('d1', series, 2, 3);
    const p = alone([a, b]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab)', { a, b }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('(vwxyz)', { v: p[0], w: p[1], x: p[2], y: p[3], z: p[4] });
    });
    expect(calls).toEqual([1, 1, 1, 1, 1]);
  });

  it('a round holding maxBatch devices is stepped at once, without waiting', () => {
    const scheduler = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const input = new Subject<ReadingChunk>();
    const got: ScoredPoint[] = [];
    input.pipe(scoreStep(options(recorder(), slots, { scheduler, maxBatch: 2 }))).subscribe((p) => got.push(p));
    input.next(chunkOf('d1', series, 0, 1));
    expect(got.length).toBe(0);
    input.next(chunkOf('d2', series, 0, 1));
    expect(got.map((p) => p.device)).toEqual(['d1', 'd2']);
    expect(calls).toEqual([2]);
    input.next(chunkOf('d3', series, 0, 1));
    scheduler.flush();
    expect(calls).toEqual([2, 1]);
  });

  it('chunks and completion fed back synchronously while a round emits wait for the next round', () => {
    const scheduler = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const input = new Subject<ReadingChunk>();
    const got = new Map<string, ScoredPoint[]>();
    const [c1, c2, c3, c4] = ['d1', 'd2', 'd3', 'd4'].map((d, i) => chunkOf(d, series, 5 * i, 2));
    let completed = false;
    let fed = false;
    input.pipe(scoreStep(options(recorder(), slots, { scheduler, maxBatch: 2 }))).subscribe({
      next: (p) => {
        got.set(p.device, [...(got.get(p.device) ?? []), p]);
        if (!fed) {
          fed = true;
          input.next(c3 as ReadingChunk);
          input.next(c4 as ReadingChunk);
          input.complete();
        }
      },
      complete: () => (completed = true),
    });
    input.next(c1 as ReadingChunk);
    input.next(c2 as ReadingChunk);
    expect(calls).toEqual([2, 2]);
    expect(completed).toBe(false);
    scheduler.flush();
    expect(calls).toEqual([2, 2, 2, 2]);
    expect(completed).toBe(true);
    for (const c of [c1, c2, c3, c4] as ReadingChunk[]) expect(got.get(c.device)).toEqual(alone([c]));
  });

  it('error: discards the waiting round and passes the error', () => {
    const ts = testScheduler();
    const { slots, calls } = counted(detector.createBatch(4));
    const a = chunkOf('d1', series, 0, 2);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a 9ms #', { a }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('(vw) 6ms #', { v: alone([a])[0], w: alone([a])[1] });
      expectObservable(cold('(a#)', { a }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('#');
    });
    expect(calls).toEqual([1, 1]);
  });

  it('never ending: rounds keep running without completion', () => {
    const ts = testScheduler();
    const { slots } = counted(detector.createBatch(4));
    const a = chunkOf('d1', series, 0, 1);
    const b = chunkOf('d1', series, 1, 1);
    const p = alone([a, b]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a 9ms b', { a, b }).pipe(scoreStep(options(recorder(), slots, { scheduler: ts })))).toBe('v 9ms w', { v: p[0], w: p[1] });
    });
  });

  it('completion steps the waiting round at once', () => {
    const scheduler = testScheduler();
    const { slots } = counted(detector.createBatch(4));
    const input = new Subject<ReadingChunk>();
    const got: ScoredPoint[] = [];
    let completed = false;
    input.pipe(scoreStep(options(recorder(), slots, { scheduler }))).subscribe({ next: (p) => got.push(p), complete: () => (completed = true) });
    const a = chunkOf('d1', series, 0, 2);
    input.next(a);
    input.complete();
    expect(got).toEqual(alone([a]));
    expect(completed).toBe(true);
    expect(scheduler.actions).toEqual([]);
  });

  it('early unsubscribe: unsubscribes the source and cancels the waiting round', () => {
    const ts = testScheduler();
    const { slots } = counted(detector.createBatch(4));
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--a|', { a: chunkOf('d1', series, 0, 1) });
      expectObservable(source.pipe(scoreStep(options(recorder(), slots, { scheduler: ts }))), '^-!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    const scheduler = testScheduler();
    const { slots: s2, calls } = counted(detector.createBatch(4));
    const input = new Subject<ReadingChunk>();
    const subscription = input.pipe(scoreStep(options(recorder(), s2, { scheduler }))).subscribe();
    input.next(chunkOf('d1', series, 0, 1));
    expect(scheduler.actions.length).toBe(1);
    subscription.unsubscribe();
    expect(scheduler.actions).toEqual([]);
    scheduler.flush();
    expect(calls).toEqual([]);
  });

  it('dead-letters every message of chunks it cannot score, with the reason, and goes on', () => {
    const ts = testScheduler();
    const rec = recorder();
    const { slots } = counted(detector.createBatch(2));
    const noModel = chunkOf('d1', series, 0, 2, 'absent');
    const wide: ReadingChunk = { ...chunkOf('d1', series, 0, 2), values: new Float32Array(6) };
    const d1 = chunkOf('d1', series, 0, 1);
    const d2 = chunkOf('d2', series, 0, 1);
    const d3 = chunkOf('d3', series, 0, 1);
    const p1 = alone([d1]);
    const p2 = alone([d2]);
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('(nwxyz)', { n: noModel, w: wide, x: d1, y: d2, z: d3 }).pipe(scoreStep(options(rec, slots, { scheduler: ts })))).toBe('(ab)', { a: p1[0], b: p2[0] });
    });
    expect(rec.letters.map((l) => [l.reason, l.source])).toEqual([
      ['unknown-device', noModel.sources[0]?.[0]],
      ['unknown-device', noModel.sources[1]?.[0]],
      ['wrong-channel-count', wide.sources[0]?.[0]],
      ['wrong-channel-count', wide.sources[1]?.[0]],
      ['device-limit', d3.sources[0]?.[0]],
    ]);
    expect(rec.letters.every((l) => (l.source as { acks?: number }).acks === 1)).toBe(true);
  });

  it('throwing callbacks: detectorFor, slotOf, a bad slot and a throwing observe become callback-error letters; the stream goes on', () => {
    const ts = testScheduler();
    const rec = recorder();
    const batch = detector.createBatch(4);
    const cap = new DeviceSlots(4);
    const observe = batch.observe.bind(batch);
    let failNext = false;
    batch.observe = (s, n, r, t) => {
      if (failNext) {
        failNext = false;
        throw new Error('kernel fault');
      }
      return observe(s, n, r, t);
    };
    const slots: DetectorSlots = { batch, slotOf: (d) => (d === 'boom' ? explode('no slots table') : d === 'stray' ? 9 : d === 'twin' ? cap.slotOf('d1') : cap.slotOf(d)) };
    const opts = options(rec, slots, { scheduler: ts, detectorFor: (m) => (m === 'bad' ? explode('model store down') : m === 'tiny' ? slots : null) });
    const bad = chunkOf('d1', series, 0, 1, 'bad');
    const boom = chunkOf('boom', series, 0, 1);
    const stray = chunkOf('stray', series, 0, 1);
    const d1 = chunkOf('d1', series, 0, 1);
    const twin = chunkOf('twin', series, 0, 1);
    const d1b = chunkOf('d1', series, 1, 2);
    ts.run(({ cold, expectObservable }) => {
      const src = cold('(abcde)-f', { a: bad, b: boom, c: stray, d: d1, e: twin, f: d1b });
      const out = src.pipe(scoreStep(opts));
      // d1's first reading is scored at frame 0; at frame 8 observe fails once (its first reading is lost), the second is scored.
      ts.schedule(() => (failNext = true), 1);
      const after = detector.createStream();
      after.push(d1.values, 0);
      const second = after.push(d1b.values.subarray(2, 4), 2000);
      expectObservable(out).toBe('a 7ms b', {
        a: alone([d1])[0],
        b: { ...alone([d1b])[1], ready: second.ready, score: second.score, anomaly: second.anomaly, exceeded: second.exceeded, contrib: Float32Array.from(second.contrib), event: second.event },
      });
    });
    expect(rec.letters.map((l) => [l.reason, l.detail])).toEqual([
      ['callback-error', 'detectorFor threw: model store down'],
      ['callback-error', 'slotOf threw: no slots table'],
      ['callback-error', `slotOf gave device 'stray' slot 9: not a free slot in [0, 4)`],
      ['callback-error', `slotOf gave device 'twin' slot 0: not a free slot in [0, 4)`],
      ['callback-error', `DetectorBatch.observe of model 'tiny' threw: kernel fault`],
    ]);
    expect(rec.letters[4]?.source).toBe(d1b.sources[0]?.[0]);
  });

  it('checks its options once, naming the bad one', () => {
    const rec = recorder();
    const { slots } = counted(detector.createBatch(1));
    expect(() => scoreStep(options(rec, slots, { maxBatch: 0 }))).toThrow('scoreStep: maxBatch must be a positive integer, got 0');
    expect(() => scoreStep({ ...options(rec, slots), detectorFor: 'tiny' as unknown as ScoreStepOptions['detectorFor'] })).toThrow('scoreStep: detectorFor must be a function, got string');
  });

  it('the fixture series exercises warm-up, exceedances and events, so the comparisons below mean something', () => {
    const points = alone([chunkOf('d1', series, 0, 80)]);
    expect(points.filter((p) => !p.ready).length).toBe(detector.warmupReadings);
    expect(points.filter((p) => p.exceeded === 1).length).toBeGreaterThan(3);
    expect(points.filter((p) => p.event !== null).length).toBeGreaterThan(3);
  });

  it('property: over random interleavings and chunkings, each device gets exactly its lone-stream scores', () => {
    const plan = fc.record({
      devices: fc.integer({ min: 1, max: 4 }),
      maxBatch: fc.integer({ min: 1, max: 4 }),
      // Each step: which device sends its next chunk, how long it is, and the gap before it.
      steps: fc.array(fc.record({ device: fc.nat(), length: fc.integer({ min: 1, max: 5 }), gapMs: fc.constantFrom(0, 0, 1, 3) }), { minLength: 1, maxLength: 25 }),
    });
    fc.assert(
      fc.property(plan, ({ devices, maxBatch, steps }) => {
        const scheduler = testScheduler();
        const { slots } = counted(detector.createBatch(devices));
        const source = new Subject<ReadingChunk>();
        const got = new Map<string, ScoredPoint[]>();
        source.pipe(scoreStep(options(recorder(), slots, { scheduler, maxBatch }))).subscribe((p) => got.set(p.device, [...(got.get(p.device) ?? []), p]));
        const sent = new Map<string, ReadingChunk[]>();
        const next = new Map<string, number>();
        let at = 0;
        for (const s of steps) {
          const device = `d${s.device % devices}`;
          const from = next.get(device) ?? 0;
          if (from + s.length > 80) continue;
          next.set(device, from + s.length);
          const c = chunkOf(device, series, from, s.length);
          sent.set(device, [...(sent.get(device) ?? []), c]);
          at += s.gapMs;
          scheduler.schedule(() => source.next(c), at);
        }
        scheduler.schedule(() => source.complete(), at + 1);
        scheduler.flush();
        expect(new Set(got.keys())).toEqual(new Set(sent.keys()));
        for (const [device, chunks] of sent) expect(got.get(device)).toEqual(alone(chunks));
      }),
      { seed: 777, numRuns: 120 },
    );
  });
});

function explode(text: string): never {
  throw new Error(text);
}
