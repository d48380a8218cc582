import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListenAddress, startMetricsServer, type MetricsServer, type ReadinessState } from '../../src/io/metrics-server.js';
import { createServiceMetrics, END_TO_END_SECONDS_BUCKETS, STEP_SECONDS_BUCKETS, type DeadLetterReason } from '../../src/io/service-metrics.js';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const servers: MetricsServer[] = [];
async function start(options: Parameters<typeof startMetricsServer>[0]): Promise<MetricsServer> {
  const s = await startMetricsServer({ listen: '127.0.0.1:0', ...options });
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const alwaysReady = (): ReadinessState => ({});

describe('service metrics', () => {
  it('buckets span 1 µs..100 ms for a step and 1 ms..60 s end to end', () => {
    expect(STEP_SECONDS_BUCKETS).toEqual([1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1]);
    expect(END_TO_END_SECONDS_BUCKETS).toEqual([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
  });

  it('two pipelines in one process keep separate registries; one registry cannot hold two pipelines', async () => {
    const a = createServiceMetrics();
    const b = createServiceMetrics();
    a.forModel('m').readingsReceived(5);
    b.forModel('m').readingsReceived(2);
    a.deadLetter('late');
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(textA).toContain('convwatch_readings_total{model="m"} 5');
    expect(textB).toContain('convwatch_readings_total{model="m"} 2');
    expect(textA).toContain('convwatch_dead_letters_total{reason="late"} 1');
    expect(textB).toContain('convwatch_dead_letters_total{reason="late"} 0');
    // Both carry the process metrics too.
    expect(textA).toContain('process_cpu_user_seconds_total');
    expect(textB).toContain('nodejs_eventloop_lag_seconds');
    expect(() => createServiceMetrics(a.registry, { defaultMetrics: false })).toThrow(/already been registered/);
  });

  it('rejects label values outside the closed lists and negative counts at run time', () => {
    const m = createServiceMetrics(new Registry(), { defaultMetrics: false });
    expect(() => m.deadLetter('lat' as DeadLetterReason)).toThrow(/convwatch_dead_letters_total: reason must be one of invalid-json, .*, got "lat"/);
    expect(() => m.pointsWritten(-1)).toThrow(/decrease/);
  });
});

describe('metrics server', () => {
  it('serves the exposition with its content type, counts after increments, and HEAD without a body', async () => {
    const metrics = createServiceMetrics();
    const model = metrics.forModel('tcn-s');
    model.readingsReceived(3);
    model.readingsScored();
    model.setActiveDevices(7);
    metrics.deadLetter('invalid-json', 2);
    metrics.pointsWritten(40);
    metrics.pointsFailed(4);
    metrics.setPointsBuffered(12);
    metrics.setUnackedMessages(5);
    metrics.redeliveries(2);
    metrics.pointsDropped('spool-full', 9);
    metrics.alert('start');
    metrics.checkpoint('saved');
    metrics.observeStepSeconds(3e-6);
    metrics.observeStepSeconds(0.02);
    metrics.observeEndToEndSeconds(0.3);
    const server = await start({ registry: metrics.registry, readiness: alwaysReady });

    const res = await call(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = res.body.split('\n');
    for (const line of [
      'convwatch_readings_total{model="tcn-s"} 3',
      'convwatch_readings_scored_total{model="tcn-s"} 1',
      'convwatch_active_devices{model="tcn-s"} 7',
      'convwatch_dead_letters_total{reason="invalid-json"} 2',
      'convwatch_dead_letters_total{reason="unmatched-topic"} 0',
      'convwatch_points_written_total 40',
      'convwatch_points_failed_total 4',
      'convwatch_points_buffered 12',
      'convwatch_mqtt_unacked_messages 5',
      'convwatch_mqtt_redeliveries_total 2',
      'convwatch_points_dropped_total{reason="spool-full"} 9',
      'convwatch_points_dropped_total{reason="rejected"} 0',
      'convwatch_alerts_total{kind="start"} 1',
      'convwatch_alerts_total{kind="end"} 0',
      'convwatch_checkpoints_total{result="saved"} 1',
      'convwatch_checkpoints_total{result="corrupt"} 0',
      // 3 µs lands in the 5 µs bucket, 20 ms in the 25 ms one.
      'convwatch_step_seconds_bucket{le="0.0000025"} 0',
      'convwatch_step_seconds_bucket{le="0.000005"} 1',
      'convwatch_step_seconds_bucket{le="0.01"} 1',
      'convwatch_step_seconds_bucket{le="0.025"} 2',
      'convwatch_step_seconds_bucket{le="+Inf"} 2',
      'convwatch_step_seconds_count 2',
      'convwatch_end_to_end_seconds_bucket{le="0.25"} 0',
      'convwatch_end_to_end_seconds_bucket{le="0.5"} 1',
      'convwatch_end_to_end_seconds_sum 0.3',
    ]) {
      expect(lines).toContain(line);
    }
    expect(res.body).toContain('# TYPE convwatch_step_seconds histogram');
    expect(res.body).toContain('# TYPE convwatch_points_buffered gauge');

    const head = await call(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);

    metrics.pointsWritten(2);
    expect((await call(`${server.url}/metrics?x=1`)).body.split('\n')).toContain('convwatch_points_written_total 42');
  });

  it('readiness flips 503 → 200 → 503, listing the failing checks with reasons', async () => {
    const state = { broker: false, subscribed: false, models: true, sink: true };
    const server = await start({
      registry: new Registry(),
      readiness: () => ({
        broker: state.broker ? { ok: true } : { ok: false, reason: 'not connected to mqtt://127.0.0.1:1883' },
        subscribed: state.subscribed ? { ok: true } : { ok: false, reason: 'SUBACK pending' },
        models: { ok: state.models },
        sink: state.sink ? { ok: true } : { ok: false, reason: 'InfluxDB writes failing for 30 s' },
      }),
    });
    const first = await call(`${server.url}/readyz`);
    expect(first.status).toBe(503);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(first.body) as { status: string; failing: { check: string; reason: string }[] };
    expect(body.status).toBe('not-ready');
    expect(body.failing).toEqual([
      { check: 'broker', reason: 'not connected to mqtt://127.0.0.1:1883' },
      { check: 'subscribed', reason: 'SUBACK pending' },
    ]);

    state.broker = true;
    state.subscribed = true;
    const ready = await call(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { broker: { ok: true }, subscribed: { ok: true }, models: { ok: true }, sink: { ok: true } } });

    state.sink = false;
    state.models = false;
    const again = await call(`${server.url}/readyz`);
    expect(again.status).toBe(503);
    expect((JSON.parse(again.body) as typeof body).failing).toEqual([
      { check: 'models', reason: 'failing' },
      { check: 'sink', reason: 'InfluxDB writes failing for 30 s' },
    ]);
  });

  it('a readiness callback that throws means not ready, and the server keeps serving', async () => {
    const server = await start({
      registry: new Registry(),
      readiness: () => {
        throw new Error('boom');
      },
    });
    const res = await call(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ status: 'not-ready', failing: [{ check: 'readiness', reason: 'readiness callback threw: boom' }] });
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
  });

  it('healthz: 200 while alive, 503 with the reason for a caller failure and for a stalled event loop, then 200 again', async () => {
    let pipeline = { ok: true, reason: '' };
    const server = await start({ registry: new Registry(), readiness: alwaysReady, health: () => pipeline, maxEventLoopLagMs: 150, lagProbeIntervalMs: 20 });
    const ok = await call(`${server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { status: string }).status).toBe('ok');

    pipeline = { ok: false, reason: 'pipeline stopped: spool directory not writable' };
    const failed = await call(`${server.url}/healthz`);
    expect(failed.status).toBe(503);
    expect((JSON.parse(failed.body) as { reasons: string[] }).reasons).toEqual(['pipeline stopped: spool directory not writable']);
    pipeline = { ok: true, reason: '' };

    // Stall the event loop for 400 ms; the request below is handled right after it.
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // busy wait on purpose
    }
    const stalled = await call(`${server.url}/healthz`);
    expect(stalled.status).toBe(503);
    const reasons = (JSON.parse(stalled.body) as { reasons: string[] }).reasons;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^event loop lag \d+ ms exceeds 150 ms$/);
    expect(Number(/lag (\d+) ms/.exec(reasons[0] as string)?.[1])).toBeGreaterThanOrEqual(300);

    // Healthy again within a few probe intervals (polled: the machine may be busy).
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
      await sleep(50);
      status = (await call(`${server.url}/healthz`)).status;
    }
    expect(status).toBe(200);
  });

  it('answers 404 for other paths, 405 for other methods, 413 for a request body', async () => {
    const server = await start({ registry: new Registry(), readiness: alwaysReady });
    expect((await call(`${server.url}/`)).status).toBe(404);
    expect((await call(`${server.url}/metrics/`)).status).toBe(404);
    expect((await call(`${server.url}/__proto__`)).status).toBe(404);
    const post = await call(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const withBody = await call(`${server.url}/healthz`, { method: 'GET', headers: { 'content-length': '5' }, body: 'hello' });
    expect(withBody.status).toBe(413);
    expect(withBody.headers.connection).toBe('close');
  });

  it('uses the configured metrics path', async () => {
    const metrics = createServiceMetrics(new Registry(), { defaultMetrics: false });
    const server = await start({ registry: metrics.registry, readiness: alwaysReady, metricsPath: '/prom' });
    expect((await call(`${server.url}/prom`)).body).toContain('convwatch_points_written_total 0');
    expect((await call(`${server.url}/metrics`)).status).toBe(404);
    await expect(startMetricsServer({ registry: metrics.registry, readiness: alwaysReady, metricsPath: 'prom' })).rejects.toThrow(/metricsPath must start with '\/'/);
  });

  it('binds 127.0.0.1 when the host is left out, and says which address it could not bind', async () => {
    const server = await start({ registry: new Registry(), readiness: alwaysReady, listen: ':0' });
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    await expect(startMetricsServer({ registry: new Registry(), readiness: alwaysReady, listen: `127.0.0.1:${server.port}` })).rejects.toThrow(
      `metrics server: cannot listen on 127.0.0.1:${server.port}: EADDRINUSE`,
    );
  });

  it('close() ends keep-alive connections promptly and frees the port', async () => {
    const server = await start({ registry: new Registry(), readiness: alwaysReady, closeGraceMs: 5_000 });
    const agent = new Agent({ keepAlive: true });
    let socketClosed = false;
    const res = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/healthz`, { agent }, (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      });
      req.on('socket', (socket) => socket.on('close', () => (socketClosed = true)));
      req.on('error', reject);
      req.end();
    });
    expect(res).toBe(200);
    expect(socketClosed).toBe(false);
    const t0 = performance.now();
    await server.close();
    // Far below closeGraceMs: the idle keep-alive connection was ended, not waited for.
    expect(performance.now() - t0).toBeLessThan(1_000);
    await sleep(20);
    expect(socketClosed).toBe(true);
    agent.destroy();
    // The port can be bound again at once.
    await new Promise<void>((resolve, reject) => {
      const probe = createNetServer();
      probe.once('error', reject);
      probe.listen({ host: '127.0.0.1', port: server.port, exclusive: true }, () => probe.close(() => resolve()));
    });
    await server.close();
  });
});

describe('parseListenAddress', () => {
  it('reads host:port, [ipv6]:port and :port', () => {
    expect(parseListenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress(':9100')).toEqual({ host: '127.0.0.1', port: 9100 });
  });

  it('rejects anything else, naming the option and the value', () => {
    expect(() => parseListenAddress('9464', 'metrics.listen')).toThrow('metrics.listen: expected "host:port", "[ipv6]:port" or ":port" with a port in 0..65535, got "9464"');
    expect(() => parseListenAddress('host:65536')).toThrow(/got "host:65536"/);
    expect(() => parseListenAddress('::1:80')).toThrow(/got "::1:80"/);
    expect(() => parseListenAddress('host:')).toThrow(/got "host:"/);
  });
});
