/**
 * The durable InfluxDB v2 sink against a real VictoriaMetrics (its InfluxDB v2 write API; field
 * `f` of measurement `m` becomes metric `m_f`) and, for answers VictoriaMetrics never gives
 * (400, 429, hangs), a small node:http server on a free loopback port. See docs/delivery.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxSink, type InfluxSinkOptions } from '../../src/io/influx-sink.js';
import type { PointRecord } from '../../src/io/line-protocol.js';
import type { ConfirmedPoints, SinkStats } from '../../src/io/point-sink.js';
import { freePort, LOOPBACK_HOST, useVictoriaMetrics, type VictoriaMetricsServer } from '../support/servers.js';
import { waitFor } from '../support/wait-for.js';
import { memoryLogger } from '../support/memory-logger.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** 2024-01-01T00:00:00Z: fixed dates stay inside the test server's 100-year retention. */
const T = 1_704_067_200_000;
const root = mkdtempSync(join(tmpdir(), 'convwatch-influx-sink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `spool-${++dirs}`);


/** Point k: device `d(k mod 10)`, time T + k ms (so every (series, time) is distinct), score k/8. */
function points(measurement: string, from: number, n: number, receivedAtMs?: number): PointRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return { measurement, tags: { device: `d${k % 10}`, model: 'tcn-s' }, fields: { score: k / 8, threshold: 2.5, anomaly: k % 97 === 0 }, timeMs: T + k, receivedAtMs };
  });
}

function sinkOptions(url: string, overrides: Partial<InfluxSinkOptions> = {}): InfluxSinkOptions {
  return {
    url,
    org: 'convwatch',
    bucket: 'scores',
    token: 'test-token',
    spool: { dir: freshDir(), fsync: 'never' },
    batchSize: 1_000,
    flushIntervalMs: 50,
    backoff: { initialDelayMs: 50, maxDelayMs: 500 },
    logger: memoryLogger(),
    ...overrides,
  };
}

/** Every point is settled one way or another: recovered + written = confirmed + failed + dropped + buffered. */
function expectBalanced(stats: SinkStats): void {
  expect(stats.recovered + stats.written).toBe(stats.confirmed + stats.failed + stats.dropped['spool-full'] + stats.bufferedPoints);
}

/** Stops VictoriaMetrics gracefully (it saves what it accepted) without deleting its data, for an outage. */
async function stopForOutage(tsdb: VictoriaMetricsServer): Promise<void> {
  const pid = tsdb.pid();
  if (pid === undefined) throw new Error('victoria-metrics is not running');
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !tsdb.isRunning(), { what: 'victoria-metrics to exit', timeoutMs: 15_000 });
}

async function timestampsOf(tsdb: VictoriaMetricsServer, metric: string): Promise<number[]> {
  const series = await tsdb.exportSeries(metric);
  return series.flatMap((s) => s.timestamps).sort((a, b) => a - b);
}

describe('InfluxSink with VictoriaMetrics', () => {
  const tsdb = useVictoriaMetrics();

  it('(a) writes 10,000 points, confirms each exactly once, and VictoriaMetrics holds exactly those', async () => {
    const confirmations: ConfirmedPoints[] = [];
    const sink = await InfluxSink.open(sinkOptions(tsdb().url, { spool: { dir: freshDir() }, onConfirmed: (c) => confirmations.push(c) }));
    let lastSeq = 0;
    for (let k = 0; k < 10_000; k += 250) lastSeq = (await sink.write(points('bulk', k, 250, 5_000 + k))).lastSeq;
    expect(lastSeq).toBe(10_000);
    await sink.waitConfirmed(lastSeq, 20_000);
    const stats = sink.stats();
    expect(stats).toMatchObject({ written: 10_000, confirmed: 10_000, failed: 0, retried: 0, bufferedPoints: 0, confirmedSeq: 10_000 });
    expect(await sink.close(5_000)).toEqual({ unconfirmed: 0 });
    expect(await tsdb().countPoints('bulk_score')).toBe(10_000);
    expect(await tsdb().countPoints('bulk_anomaly')).toBe(10_000);
    // Values and times of one device, exactly.
    const [d3] = await tsdb().exportSeries('{__name__="bulk_score",device="d3"}');
    expect(d3.metric).toEqual({ __name__: 'bulk_score', device: 'd3', model: 'tcn-s' });
    expect(d3.timestamps).toEqual(Array.from({ length: 1_000 }, (_, i) => T + 3 + 10 * i));
    expect(d3.values).toEqual(Array.from({ length: 1_000 }, (_, i) => (3 + 10 * i) / 8));
    // The confirmation hook saw every point once, in order, with its own time and receipt time.
    expect(confirmations.reduce((sum, c) => sum + c.points, 0)).toBe(10_000);
    expect(confirmations.map((c) => c.firstSeq)).toEqual(confirmations.map((_, i) => (i === 0 ? 1 : confirmations[i - 1].lastSeq + 1)));
    const times = confirmations.flatMap((c) => [...c.timesMs]);
    expect(times).toEqual(Array.from({ length: 10_000 }, (_, k) => T + k));
    expect(confirmations.flatMap((c) => [...c.receivedAtMs]).slice(0, 3)).toEqual([5_000, 5_000, 5_000]);
  });

  it('names with spaces, commas, =, quotes, backslashes and unicode arrive exactly as given', async () => {
    const sink = await InfluxSink.open(sinkOptions(tsdb().url));
    const tags = { device: 'pump 7, hall=B', site: 'Zürich "Nord"', path: 'C:\\data\\x', model: 'tcn-s' };
    const { lastSeq } = await sink.write([{ measurement: 'odd name,1', tags, fields: { 'a b=c,d': 1.25 }, timeMs: T }]);
    await sink.waitConfirmed(lastSeq, 10_000);
    await sink.close(1_000);
    const series = await tsdb().exportSeries('{__name__=~"odd name,1_.*"}');
    expect(series).toHaveLength(1);
    expect(series[0].metric).toEqual({ __name__: 'odd name,1_a b=c,d', ...tags });
    expect(series[0].values).toEqual([1.25]);
  });

  it('(b) VictoriaMetrics down for 30 s while points keep coming: nothing lost, all arrive after the restart', async () => {
    // The scenario at full length. Nothing in the sink depends on the outage's length
    // except how far the backoff has grown (capped at maxDelayMs) and how much lies in the spool
    // (read back from disk here: maxBufferedPoints is far below what the outage accumulates).
    const outageMs = 30_000;
    const logger = memoryLogger();
    const sink = await InfluxSink.open(sinkOptions(tsdb().url, { logger, maxBufferedPoints: 2_000, backoff: { initialDelayMs: 100, maxDelayMs: 1_000 } }));
    let k = 0;
    const writeTick = async (): Promise<void> => {
      await sink.write(points('outage', k, 50));
      k += 50;
    };
    for (let i = 0; i < 20; i++) await writeTick();
    await sink.waitConfirmed(k, 10_000);
    const before = k;

    await stopForOutage(tsdb());
    const outageStart = performance.now();
    while (performance.now() - outageStart < outageMs) {
      await writeTick();
      await sleep(100);
    }
    const during = sink.stats();
    expect(during.confirmed).toBe(before);
    expect(during.bufferedPoints).toBe(k - before);
    expect(during.retried).toBeGreaterThan(5);
    expect(during.failingSinceMs).not.toBeNull();
    expect(during.lastError).toMatch(/ECONNREFUSED/);
    expect(logger.entries.some((e) => e.level === 'warn' && e.message === 'influx sink: write failed; retrying')).toBe(true);

    await tsdb().restart();
    for (let i = 0; i < 20; i++) await writeTick();
    await waitFor(() => sink.stats().bufferedPoints === 0, { what: 'every point confirmed after the restart', timeoutMs: 30_000, progress: () => JSON.stringify(sink.stats()) });
    const after = sink.stats();
    expect(after).toMatchObject({ written: k, confirmed: k, failed: 0, dropped: { 'spool-full': 0, 'invalid-point': 0, 'no-fields': 0 }, failingSinceMs: null });
    expectBalanced(after);
    const recovered = logger.entries.find((e) => e.message === 'influx sink: writes succeed again');
    expect(recovered?.fields['outageMs']).toBeGreaterThanOrEqual(outageMs - 1_000);
    expect(await sink.close(5_000)).toEqual({ unconfirmed: 0 });
    expect(await timestampsOf(tsdb(), 'outage_score')).toEqual(Array.from({ length: k }, (_, i) => T + i));
  }, 90_000);

  it('(c) an outage beyond the spool bound drops the oldest points, counted exactly and logged; the rest arrive', async () => {
    const logger = memoryLogger();
    const sink = await InfluxSink.open(sinkOptions(tsdb().url, { logger, spool: { dir: freshDir(), fsync: 'never', maxBytes: 64 * 1024, segmentBytes: 4 * 1024 } }));
    await stopForOutage(tsdb());
    const total = 3_000;
    for (let k = 0; k < total; k += 100) await sink.write(points('bound', k, 100));
    const during = sink.stats();
    const dropped = during.dropped['spool-full'];
    expect(dropped).toBeGreaterThan(1_000);
    expect(during.spoolBytes).toBeLessThanOrEqual(64 * 1024);
    expect(during.bufferedPoints).toBe(total - dropped);
    const warned = logger.entries.filter((e) => e.level === 'warn' && e.fields['reason'] === 'spool-full');
    expect(warned.reduce((sum, e) => sum + Number(e.fields['points']), 0)).toBe(dropped);

    await tsdb().restart();
    await waitFor(() => sink.stats().bufferedPoints === 0, { what: 'the kept points confirmed', timeoutMs: 20_000, progress: () => JSON.stringify(sink.stats()) });
    const after = sink.stats();
    expect(after.confirmed).toBe(total - dropped);
    expect(after.dropped['spool-full']).toBe(dropped);
    expectBalanced(after);
    await sink.close(2_000);
    // Exactly the newest points survived.
    expect(await timestampsOf(tsdb(), 'bound_score')).toEqual(Array.from({ length: total - dropped }, (_, i) => T + dropped + i));
  }, 60_000);

  it('(d) after a crash (dispose before confirmation) a new sink on the same spool re-sends everything', async () => {
    const dir = freshDir();
    // A flush interval and batch size the test never reaches: nothing is sent before the "crash".
    const first = await InfluxSink.open(sinkOptions(tsdb().url, { spool: { dir, fsync: 'never' }, batchSize: 100_000, flushIntervalMs: 3_600_000 }));
    for (let k = 0; k < 5_000; k += 500) await first.write(points('crash', k, 500, 1));
    expect(first.dispose()).toEqual({ unconfirmed: 5_000 });
    await expect(first.write(points('crash', 0, 1))).rejects.toThrow(/after close\(\) or dispose\(\)/);
    expect(await tsdb().countPoints('crash_score')).toBe(0);

    const confirmations: ConfirmedPoints[] = [];
    const second = await InfluxSink.open(sinkOptions(tsdb().url, { spool: { dir, fsync: 'never' }, onConfirmed: (c) => confirmations.push(c) }));
    expect(second.stats().recovered).toBe(5_000);
    await second.waitConfirmed(5_000, 10_000);
    expect(second.stats()).toMatchObject({ recovered: 5_000, written: 0, confirmed: 5_000, bufferedPoints: 0 });
    expect(await second.close(2_000)).toEqual({ unconfirmed: 0 });
    expect(await timestampsOf(tsdb(), 'crash_score')).toEqual(Array.from({ length: 5_000 }, (_, i) => T + i));
    // Read back from disk: the receipt times did not survive, the points' own times did.
    expect(confirmations.every((c) => c.receivedAtMs.every(Number.isNaN))).toBe(true);
    expect(confirmations.flatMap((c) => [...c.timesMs])).toEqual(Array.from({ length: 5_000 }, (_, i) => T + i));
    // A third start finds nothing left to send.
    const third = await InfluxSink.open(sinkOptions(tsdb().url, { spool: { dir, fsync: 'never' } }));
    expect(third.stats().recovered).toBe(0);
    await third.close(1_000);
  });

  it('(d) a process killed with SIGKILL right after write() resolved loses nothing: the next start sends it all', async () => {
    const dir = freshDir();
    const script = join(root, 'writer.mts');
    const sinkModule = new URL('../../src/io/influx-sink.js', import.meta.url).href;
    writeFileSync(
      script,
      [
        `import { InfluxSink } from ${JSON.stringify(sinkModule)};`,
        'const silent = { info() {}, warn() {}, error() {} };',
        `const sink = await InfluxSink.open({ url: ${JSON.stringify(tsdb().url)}, org: 'o', bucket: 'b', token: 't', spool: { dir: ${JSON.stringify(dir)}, fsync: 'never' }, batchSize: 100000, flushIntervalMs: 3600000, logger: silent });`,
        'for (let k = 0; k < 3000; k += 300) {',
        `  await sink.write(Array.from({ length: 300 }, (_, i) => ({ measurement: 'killed', tags: { device: 'd' + ((k + i) % 10) }, fields: { score: (k + i) / 8 }, timeMs: ${T} + k + i })));`,
        '}',
        "process.stdout.write('durable\\n');",
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`the writer exited with ${child.exitCode}: ${output}`);
        return output.includes('durable');
      }, { what: 'the writer to report its writes durable', timeoutMs: 20_000, progress: () => output });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(await tsdb().countPoints('killed_score')).toBe(0);
    const next = await InfluxSink.open(sinkOptions(tsdb().url, { spool: { dir, fsync: 'never' } }));
    expect(next.stats().recovered).toBe(3_000);
    await next.waitConfirmed(3_000, 10_000);
    await next.close(1_000);
    expect(await timestampsOf(tsdb(), 'killed_score')).toEqual(Array.from({ length: 3_000 }, (_, i) => T + i));
  });
});

// ---------------------------------------------------------------------------------------------
// A scripted HTTP server for the answers VictoriaMetrics never gives.

interface SeenRequest {
  readonly atMs: number;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

type Answer = (request: IncomingMessage, response: ServerResponse, seen: SeenRequest) => void;

async function scriptedServer(answers: readonly Answer[], otherwise: Answer): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { atMs: performance.now(), url: request.url ?? '', authorization: request.headers.authorization, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      (answers[seen.length - 1] ?? otherwise)(request, response, entry);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, LOOPBACK_HOST, resolve));
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const answer =
  (status: number, body = '', headers: Record<string, string> = {}): Answer =>
  (_request, response) => {
    response.writeHead(status, headers);
    response.end(body);
  };

describe('InfluxSink with a scripted server', () => {
  const TOKEN = 'secret-token-4f9a';

  it('(e) moves a 400 batch to the rejected file, honours 429 Retry-After, retries resets and hangs; the token never shows', async () => {
    const server = await scriptedServer(
      [
        // Batch A: refused for good. A careless server echoes the token in its error.
        answer(400, `{"code":"invalid","message":"unable to parse points; auth was Token ${TOKEN}"}`),
        // Batch B: busy, come back in 1 s; then a reset connection; then no answer at all.
        answer(429, '{"code":"too many requests"}', { 'Retry-After': '1' }),
        (request) => request.socket.destroy(),
        () => undefined,
      ],
      answer(204),
    );
    const output: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (output.push(chunk.toString()), done()) }));
    const dir = freshDir();
    const sink = await InfluxSink.open({
      ...sinkOptions(server.url, { token: TOKEN, logger, spool: { dir, fsync: 'never' } }),
      batchSize: 3,
      requestTimeoutMs: 500,
      backoff: { initialDelayMs: 50, maxDelayMs: 100 },
    });
    try {
      const { lastSeq } = await sink.write([...points('stub', 0, 3), ...points('stub', 100, 3)]);
      await sink.waitConfirmed(lastSeq, 10_000);
      const stats = sink.stats();
      expect(stats).toMatchObject({ written: 6, confirmed: 3, failed: 3, retried: 3, bufferedPoints: 0 });
      expectBalanced(stats);

      const { seen } = server;
      expect(seen).toHaveLength(5);
      for (const request of seen) {
        expect(request.authorization).toBe(`Token ${TOKEN}`);
        expect(request.url).toBe('/api/v2/write?org=convwatch&bucket=scores&precision=ms');
      }
      const batchA = 'stub,device=d0,model=tcn-s score=0,threshold=2.5,anomaly=true 1704067200000\nstub,device=d1,model=tcn-s score=0.125,threshold=2.5,anomaly=false 1704067200001\nstub,device=d2,model=tcn-s score=0.25,threshold=2.5,anomaly=false 1704067200002';
      expect(seen[0].body).toBe(batchA);
      // Batch B was sent four times, the same lines each time.
      expect(new Set(seen.slice(1).map((r) => r.body)).size).toBe(1);
      expect(seen[1].body.split('\n').map((line) => line.split(' ').pop())).toEqual(['1704067200100', '1704067200101', '1704067200102']);
      expect(seen[2].atMs - seen[1].atMs).toBeGreaterThanOrEqual(950); // Retry-After: 1
      expect(seen[4].atMs - seen[3].atMs).toBeGreaterThanOrEqual(450); // the hang ended by requestTimeoutMs

      // The refused batch is kept beside the spool, as line protocol behind a comment.
      const rejected = readFileSync(join(dir, 'rejected.lp'), 'utf8');
      expect(rejected).toMatch(/^# rejected at \S+ status=400 seq=1\.\.3 body="\{\\"code\\":\\"invalid\\",.*\[redacted\]/);
      expect(rejected.endsWith(`\n${batchA}\n`)).toBe(true);
      expect(rejected).not.toContain(TOKEN);

      await sink.close(1_000);
      const logs = output.join('');
      expect(logs).not.toContain(TOKEN);
      const lines = logs.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const refusals = lines.filter((line) => line['status'] === 400);
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({ level: 50, points: 3, firstSeq: 1, lastSeq: 3, msg: 'influx sink: server refused a batch; moved it to the rejected file' });
      expect(String(refusals[0]['body'])).toContain('unable to parse points');
      expect(lines.some((line) => line['status'] === 429 && line['msg'] === 'influx sink: write failed; retrying')).toBe(true);
    } finally {
      sink.dispose();
      await server.close();
    }
  });

  it('close() with the server failing gives up after its limit, says how many are unconfirmed, and the next start sends them', async () => {
    const failing = await scriptedServer([], answer(503, 'maintenance'));
    const dir = freshDir();
    const logger = memoryLogger();
    const sink = await InfluxSink.open(sinkOptions(failing.url, { logger, spool: { dir, fsync: 'never' } }));
    await sink.write(points('later', 0, 10));
    const waiting = sink.waitConfirmed(10).then(
      () => 'confirmed',
      (error: Error) => error.message,
    );
    const started = performance.now();
    expect(await sink.close(700)).toEqual({ unconfirmed: 10 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(650);
    expect(await waiting).toMatch(/closed before seq 10 was confirmed/);
    expect(failing.seen.length).toBeGreaterThan(1);
    expect(logger.entries.some((e) => e.level === 'warn' && e.fields['unconfirmed'] === 10)).toBe(true);
    await failing.close();

    const working = await scriptedServer([], answer(204));
    const next = await InfluxSink.open(sinkOptions(working.url, { spool: { dir, fsync: 'never' } }));
    await next.waitConfirmed(10, 5_000);
    expect(await next.close(1_000)).toEqual({ unconfirmed: 0 });
    expect(working.seen.map((r) => r.body.split('\n').length)).toEqual([10]);
    await working.close();
  });

  it('checks its options before touching the network or the disk', async () => {
    const base = sinkOptions('http://127.0.0.1:1');
    await expect(InfluxSink.open({ ...base, batchSize: 0 })).rejects.toThrow('influx.batchSize must be an integer in [1, 1000000], got 0');
    await expect(InfluxSink.open({ ...base, url: 'ftp://x' })).rejects.toThrow(/influx.url must be an http\(s\) URL, got "ftp:\/\/x"/);
    await expect(InfluxSink.open({ ...base, bucket: '' })).rejects.toThrow(/influx.bucket must not be empty/);
    await expect(InfluxSink.open({ ...base, backoff: { jitter: 2 } })).rejects.toThrow(/influx.backoff.jitter/);
  });
});
