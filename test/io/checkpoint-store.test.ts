import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Detector, type DetectorBatch, type DetectorSnapshot } from '../../src/detect/detector.js';
import type { AnomalyEvent } from '../../src/detect/hysteresis.js';
import { checkpointLayoutOf, decodeCheckpoint, decodeFloat32, encodeCheckpoint, encodeFloat32, type Checkpoint, type DeviceCheckpoint } from '../../src/io/checkpoint-codec.js';
import { checkpointFileStem, loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint-store.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';
import { buildTinyDetector, normalSeries } from '../support/tiny-detector.js';

const C = 3;
const SHA = 'ab'.repeat(32);
const OTHER_SHA = 'cd'.repeat(32);

function buildDetector(): Detector {
  return buildTinyDetector().detector;
}

interface Row {
  score: number;
  anomaly: number;
  exceeded: number;
  contrib: number[];
  event: AnomalyEvent | null;
}

/** Device d's reading at step t: its own series; device 1's pressure jumps at 118..121. */
function reading(series: Float32Array[], d: number, t: number): Float32Array {
  const r = Float32Array.from(series[d]!.subarray(t * C, (t + 1) * C));
  if (d === 1 && t >= 118 && t < 122) r[1]! += 3000;
  return r;
}

/** Device d is active at step t: device 2 only from step 117 (so it is warming up at 120), device 3 never. */
function active(d: number, t: number): boolean {
  return d === 0 || d === 1 || (d === 2 && t >= 117);
}

/** Advances `batch` over steps [from, to) with device d in slot slotOf[d]; returns per-device rows. */
function run(batch: DetectorBatch, series: Float32Array[], slotOf: number[], from: number, to: number): Row[][] {
  const rows: Row[][] = [[], [], [], []];
  const slots = new Int32Array(4);
  const values = new Float32Array(4 * C);
  const times = new Float64Array(4);
  for (let t = from; t < to; t++) {
    const devices = [0, 1, 2, 3].filter((d) => active(d, t));
    devices.forEach((d, i) => {
      slots[i] = slotOf[d]!;
      values.set(reading(series, d, t), i * C);
      times[i] = 1_767_225_600_000 + 1000 * t;
    });
    const out = batch.observe(slots, devices.length, values, times);
    devices.forEach((d, i) => {
      rows[d]!.push({
        score: out.scores[i]!,
        anomaly: out.anomaly[i]!,
        exceeded: out.exceeded[i]!,
        contrib: Array.from(out.contrib.subarray(i * C, (i + 1) * C)),
        event: out.events[i] === null ? null : (JSON.parse(JSON.stringify(out.events[i])) as AnomalyEvent),
      });
    });
  }
  return rows;
}

function checkpointOf(batch: DetectorBatch, names: string[], slotOf: number[], lastTimes: number[], partition: string | null = null): Checkpoint {
  return {
    modelName: 'unit',
    modelWeightsSha256: SHA,
    createdAt: '2026-01-01T00:02:00.000Z',
    partition,
    journalSequence: 4711,
    devices: names.map((device, d) => ({ device, lastTimeMs: lastTimes[d]!, state: batch.snapshotSlot(slotOf[d]!) })),
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A checkpoint file rebuilt from a header object and body lines, with a correct length and checksum. */
function rebuild(header: Record<string, unknown>, lines: string[]): Buffer {
  const body = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
  const head = Buffer.from(`${JSON.stringify({ ...header, bodyBytes: body.length, bodySha256: sha256(body) })}\n`, 'utf8');
  return Buffer.concat([head, body]);
}

let tmp: TempDir;
let dir: string;
beforeEach(async () => {
  tmp = await createTempDir('convwatch-checkpoint-');
  dir = join(tmp.path, 'checkpoints');
});
afterEach(async () => {
  await tmp.remove();
});

describe('checkpoint store: round trip of real detector states', () => {
  it('restored into a fresh batch (other slots), scores continue bitwise as in the uninterrupted stream', async () => {
    const detector = buildDetector();
    const series = [0, 1, 2, 3].map((d) => normalSeries(220, 10 + d));
    const names = ['press-01', 'press-02', 'pump/7 ünïcode', 'never-seen'];
    const S = 120;
    const a = detector.createBatch(4);
    const identity = [0, 1, 2, 3];
    run(a, series, identity, 0, S);
    const lastTimes = [1_767_225_600_000 + 1000 * (S - 1), 1_767_225_600_000 + 1000 * (S - 1), 1_767_225_600_000 + 1000 * (S - 1), Number.NEGATIVE_INFINITY];
    const saved = await saveCheckpoint(dir, checkpointOf(a, names, identity, lastTimes));
    expect(saved.devices).toBe(4);
    expect(saved.skipped).toEqual([]);
    expect(saved.sequence).toBe(1);
    expect(saved.file).toBe(join(dir, 'unit.00000001.ckpt'));
    // The states taken are the interesting ones: an open event, a stream mid-warm-up, a never-used slot.
    expect(a.snapshotSlot(1).events.phase).toBe('open');
    expect(a.isReady(2)).toBe(false);
    const whole = run(a, series, identity, S, 220);

    const loaded = await loadCheckpoint(dir, 'unit', SHA, { expectedLayout: checkpointLayoutOf(detector.createBatch(1).snapshotSlot(0)) });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.skipped).toEqual([]);
    const cp = loaded.checkpoint;
    expect(cp.devices.map((d) => d.device)).toEqual(names);
    expect(cp.journalSequence).toBe(4711);
    expect(cp.devices[3]!.lastTimeMs).toBe(Number.NEGATIVE_INFINITY);
    expect(cp.devices[3]!.state.lastTimeMs).toBe(Number.NEGATIVE_INFINITY);
    expect(cp.devices[0]!.lastTimeMs).toBe(1_767_225_600_000 + 1000 * (S - 1));

    const permuted = [3, 0, 2, 1];
    const b = detector.createBatch(4);
    cp.devices.forEach((d, i) => b.restoreSlot(permuted[i]!, d.state));
    expect(b.isReady(permuted[0]!)).toBe(true);
    const resumed = run(b, series, permuted, S, 220);
    for (let d = 0; d < 3; d++) {
      expect(resumed[d]!.length).toBe(whole[d]!.length);
      resumed[d]!.forEach((row, t) => {
        const ref = whole[d]![t]!;
        expect(Object.is(row.score, ref.score), `device ${d} step ${S + t}: ${row.score} vs ${ref.score}`).toBe(true);
        expect(row.anomaly).toBe(ref.anomaly);
        expect(row.exceeded).toBe(ref.exceeded);
        expect(row.contrib.every((v, c) => Object.is(v, ref.contrib[c]))).toBe(true);
        expect(row.event).toEqual(ref.event);
      });
    }
    // The restored open event closes exactly as the uninterrupted one did, with the same start.
    const ends = resumed[1]!.filter((r) => r.event?.kind === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.event!.startMs).toBe(1_767_225_600_000 + 1000 * 118);
    // Device 2 finishes its warm-up after the restore, as it would have.
    expect(Number.isNaN(resumed[2]![0]!.score)).toBe(true);
    expect(resumed[2]!.some((r) => !Number.isNaN(r.score))).toBe(true);
  });

  it('writes a header line a person can read, and one line per device', async () => {
    const detector = buildDetector();
    const batch = detector.createBatch(2);
    await saveCheckpoint(dir, checkpointOf(batch, ['a', 'b'], [0, 1], [5, 6], 'east-1'));
    const text = await readFile(join(dir, 'unit.east-1.00000001.ckpt'), 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(4); // header, 2 devices, '' after the final newline
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    // Histories of a kernel-2 TCN with dilations [1, 2] and 4 hidden channels: (K−1)·d·Cin values each.
    expect(header).toMatchObject({
      format: 'convwatch-checkpoint',
      formatVersion: 1,
      modelName: 'unit',
      modelWeightsSha256: SHA,
      createdAt: '2026-01-01T00:02:00.000Z',
      partition: 'east-1',
      journalSequence: 4711,
      sequence: 1,
      devices: 2,
      layout: { channels: 3, historyLengths: [3, 4, 8, 8] },
    });
    const body = Buffer.from(text.slice(lines[0]!.length + 1), 'utf8');
    expect(header.bodyBytes).toBe(body.length);
    expect(header.bodySha256).toBe(sha256(body));
    const first = JSON.parse(lines[1]!) as { device: string; lastTimeMs: number; state: { lastTimeMs: unknown } };
    expect(first.device).toBe('a');
    expect(first.lastTimeMs).toBe(5);
    expect(first.state.lastTimeMs).toBe('-Infinity');
  });
});

describe('checkpoint codec: values JSON cannot hold', () => {
  it('Float32Arrays round-trip bit for bit: −0, ±Infinity, NaN payloads, subnormals', () => {
    const bits = new Uint32Array([0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0x7fa00000, 0x00000001, 0x3f800000]);
    const values = new Float32Array(bits.buffer);
    const text = encodeFloat32(values);
    // Little-endian bytes of 0x80000000 then 0x7f800000: 00 00 00 80 00 00 80 7f …
    expect(Buffer.from(text, 'base64').subarray(0, 8)).toEqual(Buffer.from([0, 0, 0, 0x80, 0, 0, 0x80, 0x7f]));
    const back = decodeFloat32(text);
    expect(Array.from(new Uint32Array(back.buffer))).toEqual(Array.from(bits));
    expect(() => decodeFloat32('AAA')).toThrow(/not base64/);
    expect(() => decodeFloat32('AAAAAAA=')).toThrow('holds 5 bytes, not a whole number of float32 values');
  });

  it('−Infinity and +Infinity times round-trip; NaN times are refused when writing', () => {
    const detector = buildDetector();
    const state = detector.createBatch(1).snapshotSlot(0);
    expect(state.lastTimeMs).toBe(Number.NEGATIVE_INFINITY);
    const cp: Checkpoint = {
      modelName: 'unit',
      modelWeightsSha256: SHA,
      createdAt: '2026-01-01T00:00:00+01:00',
      partition: null,
      devices: [
        { device: 'x', lastTimeMs: Number.NEGATIVE_INFINITY, state },
        { device: 'y', lastTimeMs: Number.POSITIVE_INFINITY, state },
        { device: 'z', lastTimeMs: Number.NaN, state },
      ],
    };
    const encoded = encodeCheckpoint(cp, 7);
    expect(encoded.devices).toBe(2);
    expect(encoded.skipped).toEqual([{ device: 'z', reason: 'lastTimeMs must be a number (not NaN), got NaN' }]);
    const decoded = decodeCheckpoint(encoded.bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.checkpoint.sequence).toBe(7);
    expect(decoded.checkpoint.devices[0]!.lastTimeMs).toBe(Number.NEGATIVE_INFINITY);
    expect(decoded.checkpoint.devices[1]!.lastTimeMs).toBe(Number.POSITIVE_INFINITY);
    expect(decoded.checkpoint.devices[0]!.state.lastTimeMs).toBe(Number.NEGATIVE_INFINITY);
  });

  it('a device whose state is malformed or of another layout is left out and named, the others are written', () => {
    const detector = buildDetector();
    const good = detector.createBatch(1).snapshotSlot(0);
    const shortHistory: DetectorSnapshot = { ...good, forecast: { ...good.forecast, tcn: { ...good.forecast.tcn, histories: [new Float32Array(2), ...good.forecast.tcn.histories.slice(1)] } } };
    const badEvents = { ...good, events: { ...good.events, phase: 'closing' } } as unknown as DetectorSnapshot;
    const devices: DeviceCheckpoint[] = [
      { device: 'a', lastTimeMs: 1, state: good },
      { device: 'b', lastTimeMs: 1, state: shortHistory },
      { device: 'a', lastTimeMs: 2, state: good },
      { device: 'c', lastTimeMs: 1, state: badEvents },
    ];
    const encoded = encodeCheckpoint({ modelName: 'unit', modelWeightsSha256: SHA, createdAt: '2026-01-01T00:00:00Z', partition: null, devices }, 1);
    expect(encoded.devices).toBe(1);
    expect(encoded.skipped.map((s) => s.device)).toEqual(['b', 'a', 'c']);
    expect(encoded.skipped[0]!.reason).toBe('history 0 has 2 values, the layout 3');
    expect(encoded.skipped[1]!.reason).toBe('appears more than once');
    expect(encoded.skipped[2]!.reason).toMatch(/^state\.events: phase: /);
  });

  it('bad metadata is refused when writing, naming the field', () => {
    const base: Checkpoint = { modelName: 'unit', modelWeightsSha256: SHA, createdAt: '2026-01-01T00:00:00Z', partition: null, devices: [] };
    expect(() => encodeCheckpoint({ ...base, modelWeightsSha256: 'ABC' }, 1)).toThrow('checkpoint: modelWeightsSha256 must be 64 lower-case hex digits, got "ABC"');
    expect(() => encodeCheckpoint({ ...base, createdAt: 'yesterday' }, 1)).toThrow(/createdAt must be an ISO 8601 time with a zone, got "yesterday"/);
    expect(() => encodeCheckpoint({ ...base, modelName: '' }, 1)).toThrow(/modelName must be 1 to 200 characters/);
    expect(() => encodeCheckpoint(base, 0)).toThrow(/^checkpoint: sequence must be a positive integer, got 0$/);
    expect(() => encodeCheckpoint({ ...base, journalSequence: -1 }, 1)).toThrow(/journalSequence must be null or a non-negative integer, got -1/);
    // No devices is a valid, empty checkpoint.
    const empty = decodeCheckpoint(encodeCheckpoint(base, 1).bytes);
    expect(empty.ok && empty.checkpoint.devices.length === 0 && empty.checkpoint.layout === null && empty.checkpoint.journalSequence === null).toBe(true);
  });
});

describe('checkpoint store: files', () => {
  async function saveSmall(modelName = 'unit', partition: string | null = null, sha = SHA, devices = 2): Promise<string> {
    const detector = buildDetector();
    const batch = detector.createBatch(devices);
    const state = (i: number): DeviceCheckpoint => ({ device: `dev-${i}`, lastTimeMs: 1000 + i, state: batch.snapshotSlot(i) });
    const saved = await saveCheckpoint(dir, { modelName, modelWeightsSha256: sha, createdAt: '2026-01-01T00:00:00Z', partition, devices: Array.from({ length: devices }, (_, i) => state(i)) });
    return saved.file;
  }
  const fixedNow = (): Date => new Date('2026-03-04T05:06:07.089Z');

  it('reports not-found for a missing directory and for a directory without this model', async () => {
    const missing = await loadCheckpoint(dir, 'unit', SHA);
    expect(missing).toMatchObject({ ok: false, code: 'not-found' });
    await saveSmall('other');
    const none = await loadCheckpoint(dir, 'unit', SHA);
    expect(none).toEqual({ ok: false, code: 'not-found', reason: `no checkpoint for model "unit" in ${dir}`, skipped: [] });
  });

  it('rejects a checkpoint of other weights with both hashes in the reason, and leaves the file alone', async () => {
    const file = await saveSmall();
    const r = await loadCheckpoint(dir, 'unit', OTHER_SHA);
    expect(r).toEqual({ ok: false, code: 'model-mismatch', reason: `${file} was written for weights SHA-256 ${SHA}; the loaded model's is ${OTHER_SHA}`, skipped: [] });
    expect(await readdir(dir)).toEqual(['unit.00000001.ckpt']);
  });

  it('rejects a checkpoint of another layout when the caller gives the expected one', async () => {
    await saveSmall();
    const r = await loadCheckpoint(dir, 'unit', SHA, { expectedLayout: { channels: 3, historyLengths: [3, 4, 8] } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('model-mismatch');
      expect(r.reason).toMatch(/holds states of layout \{"channels":3,"historyLengths":\[3,4,8,8\]\}; the model needs/);
    }
  });

  it('keeps the newest two checkpoints and loads the newest', async () => {
    await saveSmall(undefined, null, SHA, 1);
    await saveSmall(undefined, null, SHA, 2);
    await saveSmall(undefined, null, SHA, 3);
    expect((await readdir(dir)).sort()).toEqual(['unit.00000002.ckpt', 'unit.00000003.ckpt']);
    const r = await loadCheckpoint(dir, 'unit', SHA);
    expect(r.ok && r.checkpoint.sequence === 3 && r.checkpoint.devices.length === 3).toBe(true);
  });

  it('a truncated newest file is kept aside and the previous checkpoint is used', async () => {
    await saveSmall(undefined, null, SHA, 1);
    const newest = await saveSmall(undefined, null, SHA, 2);
    const size = (await readFile(newest)).length;
    await truncate(newest, Math.floor(size / 2));
    const r = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.checkpoint.sequence).toBe(1);
    expect(r.checkpoint.devices.length).toBe(1);
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0]!.file).toBe(newest);
    expect(r.skipped[0]!.reason).toMatch(/^body is \d+ bytes, the header says \d+ \(truncated or appended to\)$/);
    expect(r.skipped[0]!.movedTo).toBe(`${newest}.corrupt-20260304T050607089Z`);
    expect((await readdir(dir)).sort()).toEqual(['unit.00000001.ckpt', 'unit.00000002.ckpt.corrupt-20260304T050607089Z']);
    // The next save follows the last good sequence and does not collide with the kept-aside file.
    const next = await saveSmall();
    expect(next).toBe(join(dir, 'unit.00000002.ckpt'));
  });

  it('a file truncated inside its header, an empty file and garbage are corrupt with reasons, never a crash', async () => {
    await mkdir(dir, { recursive: true });
    const cases: [string, Buffer, RegExp][] = [
      ['unit.00000001.ckpt', Buffer.from('{"format":"convwatch-checkpoint","formatVer'), /^no header line in the first 65536 bytes/],
      ['unit.00000002.ckpt', Buffer.alloc(0), /^file is empty$/],
      ['unit.00000003.ckpt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0a, 0x00, 0xff]), /^header line is not JSON/],
      ['unit.00000004.ckpt', Buffer.from('{"hello":"world"}\n'), /^header is not a convwatch-checkpoint header$/],
    ];
    for (const [name, bytes] of cases) await writeFile(join(dir, name), bytes);
    const r = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('corrupt');
    expect(r.skipped.map((s) => s.file)).toEqual(cases.map(([name]) => join(dir, name)).reverse());
    cases
      .slice()
      .reverse()
      .forEach(([, , pattern], i) => expect(r.skipped[i]!.reason).toMatch(pattern));
    expect(r.reason).toMatch(/^every checkpoint for model "unit" is corrupt: /);
    // All moved aside, only the newest three kept.
    const left = (await readdir(dir)).sort();
    expect(left).toEqual([
      'unit.00000002.ckpt.corrupt-20260304T050607089Z',
      'unit.00000003.ckpt.corrupt-20260304T050607089Z',
      'unit.00000004.ckpt.corrupt-20260304T050607089Z',
    ]);
  });

  it('a flipped byte in the body fails the checksum; a well-summed body of bad content fails validation with the line', async () => {
    const file = await saveSmall();
    const bytes = await readFile(file);
    const flipped = Buffer.from(bytes);
    const at = flipped.indexOf('"device"') + 12;
    flipped[at] = flipped[at]! ^ 0x01;
    await writeFile(file, flipped);
    const r1 = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.skipped[0]!.reason).toMatch(/^body SHA-256 is [0-9a-f]{64}, the header says [0-9a-f]{64} \(damaged\)$/);

    // Re-summed by hand: header and checksum fine, content not.
    const [headLine, line1, line2] = bytes.toString('utf8').split('\n') as [string, string, string];
    const header = JSON.parse(headLine) as Record<string, unknown>;
    const device = JSON.parse(line2) as { state: { forecast: { forecast: string } } };
    device.state.forecast.forecast = Buffer.alloc(8).toString('base64'); // 2 values, layout says 3
    await writeFile(join(dir, 'unit.00000002.ckpt'), rebuild({ ...header, sequence: 2 }, [line1, JSON.stringify(device)]));
    const r2 = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.skipped[0]!.reason).toBe('line 3 (device "dev-1"): forecast has 2 values, the layout 3 channels');

    const nan = JSON.parse(line1) as { lastTimeMs: unknown };
    nan.lastTimeMs = 'NaN';
    await writeFile(join(dir, 'unit.00000003.ckpt'), rebuild({ ...header, sequence: 3, devices: 1 }, [JSON.stringify(nan)]));
    const r3 = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    if (!r3.ok) expect(r3.skipped[0]!.reason).toBe('line 2: lastTimeMs: must be a finite number, "Infinity" or "-Infinity"');
    expect(r3.ok).toBe(false);

    await writeFile(join(dir, 'unit.00000004.ckpt'), rebuild({ ...header, sequence: 4 }, [line1, line1]));
    const r4 = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    if (!r4.ok) expect(r4.skipped[0]!.reason).toBe('line 3: device "dev-0" appears twice');
    expect(r4.ok).toBe(false);
  });

  it('absurd sizes are refused before reading or allocating', async () => {
    const file = await saveSmall();
    const size = (await readFile(file)).length;
    const big = await loadCheckpoint(dir, 'unit', SHA, { maxBytes: size - 1 });
    expect(big).toMatchObject({ ok: false, code: 'too-large', reason: `${file} is ${size} bytes, more than maxBytes ${size - 1}` });
    const [headLine, line1] = (await readFile(file, 'utf8')).split('\n') as [string, string];
    const header = JSON.parse(headLine) as Record<string, unknown>;
    await writeFile(join(dir, 'unit.00000002.ckpt'), rebuild({ ...header, sequence: 2, devices: 1e12 }, [line1]));
    const r = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    expect(r.ok && r.checkpoint.sequence === 1).toBe(true);
    if (r.ok) expect(r.skipped[0]!.reason).toBe('header announces 1000000000000 devices, more than maxDevices 1000000');
    await writeFile(join(dir, 'unit.00000003.ckpt'), rebuild({ ...header, sequence: 3, layout: { channels: 3, historyLengths: [2 ** 40] } }, [line1]));
    const r2 = await loadCheckpoint(dir, 'unit', SHA, { now: fixedNow });
    if (r2.ok) expect(r2.skipped[0]!.reason).toMatch(/^header: layout\.historyLengths\.0: /);
    const small = await loadCheckpoint(dir, 'unit', SHA, { maxDeviceBytes: 100, now: fixedNow });
    expect(small.ok).toBe(false);
    if (!small.ok) expect(small.skipped[0]!.reason).toMatch(/^line 2: \d+ bytes, more than maxDeviceBytes 100$/);
  });

  it('a file of another format version is refused as such, not kept aside', async () => {
    const file = await saveSmall();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"formatVersion":1', '"formatVersion":2'));
    const r = await loadCheckpoint(dir, 'unit', SHA);
    expect(r).toEqual({ ok: false, code: 'unsupported-version', reason: `${file}: formatVersion is 2; this convwatch reads version 1`, skipped: [] });
    expect(await readdir(dir)).toEqual(['unit.00000001.ckpt']);
  });

  it('a crash during a write leaves a temp file that is ignored and cleaned, and the last checkpoint intact', async () => {
    const good = await saveSmall();
    const goodBytes = await readFile(good);
    // What a save killed before its rename leaves: a partial temp file of the next sequence.
    const temp = join(dir, 'unit.00000002.ckpt.tmp-4242-0e3f6a1c');
    await writeFile(temp, goodBytes.subarray(0, 100));
    const r = await loadCheckpoint(dir, 'unit', SHA);
    expect(r.ok && r.checkpoint.sequence === 1 && r.skipped.length === 0).toBe(true);
    expect(await readdir(dir)).toEqual(['unit.00000001.ckpt']);
    // A save also clears temp files a crash left behind.
    await writeFile(temp, 'partial');
    await saveSmall();
    expect((await readdir(dir)).sort()).toEqual(['unit.00000001.ckpt', 'unit.00000002.ckpt']);
    expect(await readFile(good)).toEqual(goodBytes);
  });

  it('partitions and unsafe model names get their own files inside the directory', async () => {
    await saveSmall('unit', 'p1', SHA, 1);
    await saveSmall('unit', null, SHA, 2);
    await saveSmall('../../etc/passwd', null, SHA, 1);
    const stem = checkpointFileStem('../../etc/passwd');
    expect(stem).toMatch(/^______etc_passwd-[0-9a-f]{12}$/);
    expect((await readdir(dir)).sort()).toEqual([`${stem}.00000001.ckpt`, 'unit.00000001.ckpt', 'unit.p1.00000001.ckpt'].sort());
    const p1 = await loadCheckpoint(dir, 'unit', SHA, { partition: 'p1' });
    expect(p1.ok && p1.checkpoint.partition === 'p1' && p1.checkpoint.devices.length === 1).toBe(true);
    const all = await loadCheckpoint(dir, 'unit', SHA);
    expect(all.ok && all.checkpoint.partition === null && all.checkpoint.devices.length === 2).toBe(true);
    const odd = await loadCheckpoint(dir, '../../etc/passwd', SHA);
    expect(odd.ok && odd.checkpoint.modelName === '../../etc/passwd').toBe(true);
  });

  it('refuses keep < 2', async () => {
    await expect(saveCheckpoint(dir, { modelName: 'unit', modelWeightsSha256: SHA, createdAt: '2026-01-01T00:00:00Z', partition: null, devices: [] }, { keep: 1 })).rejects.toThrow(
      'saveCheckpoint: keep must be an integer ≥ 2, got 1',
    );
  });
});
