import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/nn/random.js';
import { assemble, type AssembleOptions, type Eviction, type ModelChannels } from '../../src/stream/assemble.js';
import type { DecodedSample, Reading } from '../../src/stream/types.js';
import { named, ordered, recorder, sample, testScheduler, type Recorder, type TestMessage } from './stream-fixtures.js';

const MODEL: ModelChannels = { model: 'pump', channels: ['a', 'b', 'c'] };
const modelFor = (device: string): ModelChannels | null => (device.startsWith('p') ? MODEL : null);

function reading(device: string, timeMs: number, values: number[], sources: DecodedSample[], tags: Record<string, string> = {}): Reading {
  return { device, model: 'pump', tags, timeMs, values: Float32Array.from(values), sources: sources.map((s) => s.source) };
}

function options(rec: Recorder, extra: Partial<AssembleOptions> = {}): AssembleOptions {
  return { ...rec, modelFor, waitMs: 5, ...extra };
}

describe('assemble', () => {
  it('empty: completes with nothing', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold<DecodedSample>('|').pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('|');
    });
  });

  it('one value: a complete sample is a reading at once, in the model channel order', () => {
    const ts = testScheduler();
    const s = sample('p1', 100, named({ c: 3, a: 1, b: 2 }), { site: 'n' });
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-s|', { s }).pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('-r|', { r: reading('p1', 100, [1, 2, 3], [s], { site: 'n' }) });
    });
  });

  it('many values: merges per-channel samples of a time, emitting when complete', () => {
    const ts = testScheduler();
    const rec = recorder();
    const a1 = sample('p1', 1, named({ a: 1 }));
    const b1 = sample('p1', 1, named({ b: 2 }));
    const q1 = sample('p2', 1, ordered(7, 8, 9));
    const c1 = sample('p1', 1, named({ c: 3 }));
    const ab2 = sample('p1', 2, named({ b: 5, a: 4 }));
    const c2 = sample('p1', 2, named({ c: 6 }));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('abqcde|', { a: a1, b: b1, q: q1, c: c1, d: ab2, e: c2 }).pipe(assemble(options(rec, { scheduler: ts })))).toBe('--qr-s|', {
        q: reading('p2', 1, [7, 8, 9], [q1]),
        r: reading('p1', 1, [1, 2, 3], [a1, b1, c1]),
        s: reading('p1', 2, [4, 5, 6], [ab2, c2]),
      });
    });
    expect(rec.letters).toEqual([]);
  });

  it("waitMs after the first sample, 'hold' fills missing channels with the device's last values", () => {
    const ts = testScheduler();
    const full = sample('p1', 1, ordered(1, 2, 3));
    const part = sample('p1', 2, named({ b: 20 }));
    ts.run(({ cold, expectObservable }) => {
      // part arrives at frame 2; waitMs 5 → flushed at frame 7.
      expectObservable(cold('s-t', { s: full, t: part }).pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('r------u', {
        r: reading('p1', 1, [1, 2, 3], [full]),
        u: reading('p1', 2, [1, 20, 3], [part]),
      });
    });
  });

  it("'skip' and 'dead-letter' drop an incomplete reading; 'hold' does too without an earlier value", () => {
    for (const onMissing of ['skip', 'dead-letter', 'hold'] as const) {
      const ts = testScheduler();
      const rec = recorder();
      const a = sample('p1', 1, named({ a: 1 }));
      const b = sample('p1', 1, named({ b: 2 }));
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('ab 10ms |', { a, b }).pipe(assemble(options(rec, { scheduler: ts, onMissing })))).toBe('------------|');
      });
      expect(rec.letters.map((l) => [l.reason, l.source, l.atMs])).toEqual([
        ['missing-channels', a.source, 5],
        ['missing-channels', b.source, 5],
      ]);
      expect(rec.letters[0]?.detail).toContain('lacks c');
      expect((a.source as TestMessage).acks).toBe(1);
    }
  });

  it('flushes a reading early once each missing channel has delivered a later time', () => {
    const ts = testScheduler();
    const r0 = sample('p1', 0, ordered(1, 2, 3));
    const a1 = sample('p1', 1, named({ a: 10 }));
    const b1 = sample('p1', 1, named({ b: 20 }));
    const c2 = sample('p1', 2, named({ c: 30 }));
    ts.run(({ cold, expectObservable }) => {
      // c2 proves that t=1 will never get c: t=1 leaves at c2's frame, with c held; t=2 waits.
      expectObservable(cold('xab-c 20ms |', { x: r0, a: a1, b: b1, c: c2 }).pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('x---u----v 15ms |', {
        x: reading('p1', 0, [1, 2, 3], [r0]),
        u: reading('p1', 1, [10, 20, 3], [a1, b1]),
        v: reading('p1', 2, [10, 20, 30], [c2]),
      });
    });
  });

  it("keeps a device's readings in time order when a later reading's timer fires first", () => {
    const ts = testScheduler();
    const r0 = sample('p1', 0, ordered(1, 2, 3));
    const late2 = sample('p1', 2, named({ a: 5 }));
    const early1 = sample('p1', 1, named({ a: 4 }));
    ts.run(({ cold, expectObservable }) => {
      // t=2 starts at frame 1 (timer at 6), t=1 at frame 3 (timer at 8): at 6 both leave, t=1 first.
      expectObservable(cold('xy-z', { x: r0, y: late2, z: early1 }).pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('x-----(uv)', {
        x: reading('p1', 0, [1, 2, 3], [r0]),
        u: reading('p1', 1, [4, 2, 3], [early1]),
        v: reading('p1', 2, [5, 2, 3], [late2]),
      });
    });
  });

  it("drops late and duplicate samples; late: 'accept' lets late ones through", () => {
    for (const late of ['drop', 'accept'] as const) {
      const ts = testScheduler();
      const rec = recorder();
      const x = sample('p1', 5, ordered(1, 2, 3));
      const old = sample('p1', 3, ordered(4, 5, 6));
      const same = sample('p1', 5, ordered(7, 8, 9));
      const a6 = sample('p1', 6, named({ a: 1 }));
      const a6again = sample('p1', 6, named({ a: 2 }));
      const tworow = sample('p1', 6, named({ b: 1, b2: 1 } as Record<string, number>));
      ts.run(({ cold, expectObservable }) => {
        const out = cold('xoyabc|', { x, o: old, y: same, a: a6, b: a6again, c: tworow }).pipe(assemble(options(rec, { scheduler: ts, late })));
        const kept = { x: reading('p1', 5, [1, 2, 3], [x]), o: reading('p1', 3, [4, 5, 6], [old]), s: reading('p1', 6, [1, 2, 3], [a6]) };
        expectObservable(out).toBe(late === 'drop' ? 'x-----(s|)' : 'xo----(s|)', kept);
      });
      const expected = [
        ...(late === 'drop' ? [['late', old.source]] : []),
        ['duplicate', same.source],
        ['duplicate', a6again.source],
        ['unknown-channel', tworow.source],
      ];
      expect(rec.letters.map((l) => [l.reason, l.source])).toEqual(expected);
    }
  });

  it('dead-letters unknown devices, wrong counts, unknown channels, devices over the cap', () => {
    const ts = testScheduler();
    const rec = recorder();
    const calls: string[] = [];
    const stranger = sample('x9', 1, ordered(1, 2, 3));
    const short = sample('p1', 1, ordered(1, 2));
    const alien = sample('p1', 2, named({ a: 1, z: 2 }));
    const second = sample('p2', 1, ordered(1, 2, 3));
    ts.run(({ cold, expectObservable }) => {
      const op = assemble(options(rec, { scheduler: ts, maxDevices: 1, modelFor: (d) => (calls.push(d), modelFor(d)) }));
      expectObservable(cold('sabc|', { s: stranger, a: short, b: alien, c: second }).pipe(op)).toBe('----|');
    });
    expect(rec.letters.map((l) => [l.reason, l.source])).toEqual([
      ['unknown-device', stranger.source],
      ['wrong-channel-count', short.source],
      ['unknown-channel', alien.source],
      ['device-limit', second.source],
    ]);
    // The model is looked up once per device (state kept), again for each refused device.
    expect(calls).toEqual(['x9', 'p1', 'p2']);
  });

  it('evicts an idle device after idleEvictionMs without samples, flushing it first; it may come back', () => {
    const ts = testScheduler();
    const evictions: Eviction[] = [];
    const calls: string[] = [];
    const s0 = sample('p1', 0, ordered(1, 2, 3));
    const s1 = sample('p1', 1, ordered(4, 5, 6));
    const part = sample('p1', 2, named({ a: 7 }));
    const back = sample('p1', 3, ordered(7, 8, 9));
    ts.run(({ cold, expectObservable }) => {
      const op = assemble(options(recorder(), { scheduler: ts, waitMs: 100, idleEvictionMs: 20, onEvict: (e) => evictions.push(e), modelFor: (d) => (calls.push(d), modelFor(d)) }));
      // s0 at 0, s1 at 10, part at 12 (waits up to 112), evicted at 32 (flushing part), back at 40.
      expectObservable(cold('s 9ms t-p 27ms b', { s: s0, t: s1, p: part, b: back }).pipe(op)).toBe('s 9ms t 21ms u 7ms b', {
        s: reading('p1', 0, [1, 2, 3], [s0]),
        t: reading('p1', 1, [4, 5, 6], [s1]),
        u: reading('p1', 2, [7, 5, 6], [part]),
        b: reading('p1', 3, [7, 8, 9], [back]),
      });
    });
    expect(evictions).toEqual([
      { device: 'p1', model: 'pump', lastTimeMs: 2, atMs: 32 },
      { device: 'p1', model: 'pump', lastTimeMs: 3, atMs: 60 },
    ]);
    expect(calls).toEqual(['p1', 'p1']);
  });

  it('error: discards pending readings and passes the error', () => {
    const ts = testScheduler();
    const rec = recorder();
    const a = sample('p1', 1, named({ a: 1 }));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', { a }).pipe(assemble(options(rec, { scheduler: ts })))).toBe('--#');
    });
    expect(rec.letters).toEqual([]);
    expect(ts.actions).toEqual([]);
  });

  it('never ending: the time bound flushes without completion', () => {
    const ts = testScheduler();
    const r0 = sample('p1', 0, ordered(1, 2, 3));
    const a1 = sample('p1', 1, named({ a: 9 }));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('x-a-', { x: r0, a: a1 }).pipe(assemble(options(recorder(), { scheduler: ts, idleEvictionMs: Number.POSITIVE_INFINITY })))).toBe('x------u', {
        x: reading('p1', 0, [1, 2, 3], [r0]),
        u: reading('p1', 1, [9, 2, 3], [a1]),
      });
    });
  });

  it('completion flushes every pending reading, per device in time order', () => {
    const ts = testScheduler();
    const r0 = sample('p1', 0, ordered(1, 2, 3));
    const a2 = sample('p1', 2, named({ a: 5 }));
    const a1 = sample('p1', 1, named({ a: 4 }));
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('xyz|', { x: r0, y: a2, z: a1 }).pipe(assemble(options(recorder(), { scheduler: ts })))).toBe('x--(uv|)', {
        x: reading('p1', 0, [1, 2, 3], [r0]),
        u: reading('p1', 1, [4, 2, 3], [a1]),
        v: reading('p1', 2, [5, 2, 3], [a2]),
      });
    });
    expect(ts.actions).toEqual([]);
  });

  it('early unsubscribe: unsubscribes the source and clears every timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = sample('p1', 1, named({ a: 1 }));
      const source = cold('a---|', { a });
      expectObservable(source.pipe(assemble(options(recorder(), { scheduler: ts }))), '^-!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    // Outside run(): the scheduler's queue is inspected before anything is flushed.
    const scheduler = testScheduler();
    const input = new Subject<DecodedSample>();
    const got: Reading[] = [];
    const subscription = input.pipe(assemble(options(recorder(), { scheduler, idleEvictionMs: 1000 }))).subscribe((r) => got.push(r));
    input.next(sample('p1', 1, named({ a: 1 })));
    input.next(sample('p2', 1, named({ b: 1 })));
    expect(scheduler.actions.length).toBe(4); // two wait timers, two idle timers
    subscription.unsubscribe();
    expect(scheduler.actions).toEqual([]);
    scheduler.flush();
    expect(got).toEqual([]);
  });

  it('throwing callbacks: modelFor dead-letters the sample, onEvict and the sink are reported, the stream goes on', () => {
    const ts = testScheduler();
    const rec = recorder();
    const boom = sample('pBoom', 1, ordered(1, 2, 3));
    const ok = sample('p1', 1, ordered(1, 2, 3));
    const short = sample('p1', 2, ordered(1));
    const ok2 = sample('p1', 3, ordered(4, 5, 6));
    const opts = options(rec, {
      scheduler: ts,
      idleEvictionMs: 10,
      modelFor: (d) => (d === 'pBoom' ? explode('registry down') : modelFor(d)),
      onEvict: () => explode('checkpoint failed'),
    });
    let sinkCalls = 0;
    const failingSink = { ...opts, deadLetter: () => (sinkCalls++, explode('sink down')) };
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('bo', { b: boom, o: ok }).pipe(assemble(opts))).toBe('-r', { r: reading('p1', 1, [1, 2, 3], [ok]) });
      expectObservable(cold('-- 20ms s-o|', { s: short, o: ok2 }).pipe(assemble(failingSink))).toBe('-- 20ms --r|', { r: reading('p1', 3, [4, 5, 6], [ok2]) });
    });
    expect(rec.letters).toMatchObject([{ reason: 'callback-error', detail: 'modelFor threw: registry down', source: boom.source }]);
    expect(sinkCalls).toBe(1);
    expect((short.source as TestMessage).acks).toBe(0);
    expect(rec.callbackErrors.map((e) => [e.callback, (e.error as Error).message])).toEqual([
      ['onEvict', 'checkpoint failed'],
      ['deadLetter', 'sink down'],
    ]);
  });

  it('checks its options once, naming the bad one', () => {
    const rec = recorder();
    expect(() => assemble(options(rec, { waitMs: -1 }))).toThrow('assemble: waitMs must be a finite number ≥ 0, got -1');
    expect(() => assemble(options(rec, { maxDevices: 1.5 }))).toThrow('assemble: maxDevices must be a positive integer, got 1.5');
    expect(() => assemble(options(rec, { idleEvictionMs: 0 }))).toThrow('assemble: idleEvictionMs must be > 0 (or Infinity), got 0');
    expect(() => assemble(options(rec, { onMissing: 'forecast' as 'hold' }))).toThrow(`assemble: onMissing must be 'hold', 'skip' or 'dead-letter', got forecast`);
    expect(() => assemble(options(rec, { late: 'keep' as 'drop' }))).toThrow(`assemble: late must be 'drop' or 'accept', got keep`);
  });
});

describe('assemble property: per-topic order kept, interleaving shuffled', () => {
  interface Case {
    devices: { channels: number; rows: { values: number[]; present: boolean[] }[] }[];
    seed: number;
    onMissing: 'hold' | 'skip';
  }
  const row = (channels: number) => fc.record({ values: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: channels, maxLength: channels }), present: fc.array(fc.boolean(), { minLength: channels, maxLength: channels }) });
  const device = fc.integer({ min: 1, max: 4 }).chain((channels) => fc.record({ channels: fc.constant(channels), rows: fc.array(row(channels), { minLength: 1, maxLength: 12 }) }));
  const cases: fc.Arbitrary<Case> = fc.record({ devices: fc.array(device, { minLength: 1, maxLength: 3 }), seed: fc.nat(), onMissing: fc.constantFrom('hold' as const, 'skip' as const) });
  const channelNames = (C: number): string[] => Array.from({ length: C }, (_, c) => `ch${c}`);

  /** Independent reference: each device's rows in time order, missing channels held or dropped. */
  function reference(c: Case): Map<string, { timeMs: number; values: number[] }[]> {
    const out = new Map<string, { timeMs: number; values: number[] }[]>();
    c.devices.forEach((d, i) => {
      const last: (number | undefined)[] = new Array<number | undefined>(d.channels).fill(undefined);
      const list: { timeMs: number; values: number[] }[] = [];
      d.rows.forEach((r, t) => {
        if (!r.present.some(Boolean)) return; // no message at all: no reading
        const values: number[] = [];
        for (let ch = 0; ch < d.channels; ch++) {
          const v = r.present[ch] ? r.values[ch] : c.onMissing === 'hold' ? last[ch] : undefined;
          if (v === undefined) return;
          values.push(v);
        }
        values.forEach((v, ch) => (last[ch] = v));
        list.push({ timeMs: 1000 * (t + 1), values });
      });
      out.set(`p${i}`, list);
    });
    return out;
  }

  /** Messages per (device, channel) topic in time order. */
  function topics(c: Case): DecodedSample[][] {
    const queues: DecodedSample[][] = [];
    c.devices.forEach((d, i) => {
      for (let ch = 0; ch < d.channels; ch++) {
        const q: DecodedSample[] = [];
        d.rows.forEach((r, t) => {
          if (r.present[ch]) q.push(sample(`p${i}`, 1000 * (t + 1), named({ [`ch${ch}`]: r.values[ch] as number })));
        });
        queues.push(q);
      }
    });
    return queues;
  }

  function run(c: Case, input: DecodedSample[]): Map<string, { timeMs: number; values: number[] }[]> {
    const scheduler = testScheduler();
    const rec = recorder();
    const source = new Subject<DecodedSample>();
    const out = new Map<string, { timeMs: number; values: number[] }[]>();
    const models = new Map(c.devices.map((d, i) => [`p${i}`, { model: `m${d.channels}`, channels: channelNames(d.channels) }]));
    source.pipe(assemble({ ...rec, modelFor: (dev) => models.get(dev) ?? null, waitMs: 1_000_000, onMissing: c.onMissing, scheduler })).subscribe((r) => {
      const list = out.get(r.device) ?? [];
      list.push({ timeMs: r.timeMs, values: [...r.values] });
      out.set(r.device, list);
    });
    for (const s of input) source.next(s);
    source.complete();
    expect(scheduler.actions).toEqual([]);
    // Every message is either in a reading or dead-lettered as missing-channels.
    expect(rec.letters.every((l) => l.reason === 'missing-channels')).toBe(true);
    for (const d of models.keys()) if (!out.has(d)) out.set(d, []);
    return out;
  }

  it('yields the same readings per device as the time-ordered input, and as the reference', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const queues = topics(c);
        const inOrder = queues.flat().sort((x, y) => x.timeMs - y.timeMs);
        // Interleave the topics at random, each topic keeping its own order (what MQTT guarantees).
        const rng = new Rng(c.seed);
        const shuffled: DecodedSample[] = [];
        const heads = queues.map(() => 0);
        let left = inOrder.length;
        while (left > 0) {
          const open = queues.map((_, i) => i).filter((i) => (heads[i] as number) < (queues[i] as DecodedSample[]).length);
          const pick = open[rng.int(open.length)] as number;
          shuffled.push((queues[pick] as DecodedSample[])[heads[pick] as number] as DecodedSample);
          heads[pick] = (heads[pick] as number) + 1;
          left--;
        }
        const expected = reference(c);
        expect(run(c, inOrder)).toEqual(expected);
        expect(run(c, shuffled)).toEqual(expected);
      }),
      { seed: 20_261_122, numRuns: 300 },
    );
  });
});

function explode(text: string): never {
  throw new Error(text);
}
