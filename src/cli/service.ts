import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { createDeviceSelector } from '../config/device-pattern.js';
import { devicePartition, subscriptionFilters } from '../config/partition.js';
import type { Config } from '../config/resolve-config.js';
import { modelNameOf } from '../config/config-schema.js';
import { compileTopicTemplate } from '../config/topic-template.js';
import type { Detector } from '../detect/detector.js';
import { alertMessage, fillTopic } from '../io/alert-message.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint-store.js';
import { InfluxSink } from '../io/influx-sink.js';
import { LineProtocolFileSink } from '../io/line-protocol-file-sink.js';
import { LineProtocolError, LineTemplate, type PointRecord, type SinkPoint } from '../io/line-protocol.js';
import { startMetricsServer } from '../io/metrics-server.js';
import { loadModel } from '../io/model-dir.js';
import { MqttSource } from '../io/mqtt-source.js';
import type { PointSink } from '../io/point-sink.js';
import { createServiceMetrics } from '../io/service-metrics.js';
import type { CodecRoute } from '../stream/codecs.js';
import { createPipeline, type Pipeline } from '../stream/pipeline.js';
import type { DeadLetter, InboundMessage, ScoredPoint } from '../stream/types.js';
import { scoringKernel } from './kernels.js';

/** A running `convwatch run`. */
export interface RunningService {
  /** Address of /metrics, /healthz, /readyz, or null when disabled. */
  readonly httpUrl: string | null;
  /** Graceful stop: intake off, drain, flush and confirm, checkpoint, disconnect. */
  stop(reason: string): Promise<{ unconfirmed: number }>;
  /** Counters for the terminal summary and tests. */
  status(): ServiceStatus;
}

/** A snapshot of what the service has done. */
export interface ServiceStatus {
  received: number;
  /** Messages of devices another instance owns (hash partitions), acknowledged and skipped. */
  otherPartition: number;
  scored: number;
  deadLetters: number;
  alerts: number;
  activeDevices: number;
  openAnomalies: Map<string, { model: string; startMs: number; topChannels: string[] }>;
  points: { written: number; confirmed: number; failed: number };
}

/** The fields every point has, in line order; `contrib_<channel>` follow, one per model channel. */
const POINT_FIELDS = ['threshold', 'anomaly', 'ready', 'score'] as const;

/**
 * Encodes the service's points: one {@link LineTemplate} per series (device, model, topic tags),
 * so a point costs only its numbers. Warm-up points (not ready) leave score and contributions
 * out. A series whose names cannot be written falls back to a {@link PointRecord}, which the
 * sink refuses and counts (`invalid-point`) the usual way.
 */
class PointEncoder {
  private readonly templates = new Map<string, LineTemplate | null>();
  /** Per model: field names in line order, and the array their values are gathered in. */
  private readonly layouts = new Map<string, { names: readonly string[]; values: Float64Array }>();

  constructor(
    private readonly measurement: string,
    private readonly channelsOf: (model: string) => readonly string[],
    private readonly maxSeries: number,
  ) {}

  encode(p: ScoredPoint): SinkPoint {
    let layout = this.layouts.get(p.model);
    if (layout === undefined) {
      const names = [...POINT_FIELDS, ...this.channelsOf(p.model).map((c) => `contrib_${c}`)];
      this.layouts.set(p.model, (layout = { names, values: new Float64Array(names.length) }));
    }
    const v = layout.values;
    v[0] = p.threshold;
    v[1] = p.anomaly;
    v[2] = p.ready ? 1 : 0;
    v[3] = p.ready ? p.score : Number.NaN; // NaN fields are left out of the line
    for (let i = POINT_FIELDS.length; i < v.length; i++) v[i] = p.ready ? (p.contrib[i - POINT_FIELDS.length] as number) : Number.NaN;
    let receivedAtMs = Number.POSITIVE_INFINITY;
    for (const s of p.sources) if (s.receivedAtMs < receivedAtMs) receivedAtMs = s.receivedAtMs;
    const received = Number.isFinite(receivedAtMs) ? receivedAtMs : undefined;
    const timeMs = Math.round(p.timeMs);

    let key = `${p.device}\u0000${p.model}`;
    for (const tag in p.tags) key += `\u0000${tag}=${p.tags[tag] as string}`;
    let template = this.templates.get(key);
    if (template === undefined) {
      if (this.templates.size >= this.maxSeries) this.templates.clear();
      try {
        template = new LineTemplate(this.measurement, this.tagsOf(p), layout.names);
      } catch (e) {
        if (!(e instanceof LineProtocolError)) throw e;
        template = null;
      }
      this.templates.set(key, template);
    }
    const line = template?.encode(v, timeMs, received) ?? null;
    if (line !== null) return line;
    // Names that cannot be written, or no finite field: the sink refuses the record and counts it.
    const fields = Object.fromEntries(layout.names.map((name, i) => [name, v[i] as number]));
    return { measurement: this.measurement, tags: this.tagsOf(p), fields, timeMs, ...(received === undefined ? {} : { receivedAtMs: received }) };
  }

  private tagsOf(p: ScoredPoint): Record<string, string> {
    return { ...p.tags, device: p.device, model: p.model };
  }
}

/**
 * Starts the live service described by `config`: models, sink, metrics server, MQTT source and
 * the pipeline between them; restores checkpointed device states.
 * @throws Error when a model, the sink or the broker cannot be opened (nothing is left running).
 */
export async function startService(config: Config, log: Logger, now: () => number = Date.now): Promise<RunningService> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    // Models.
    const detectors = new Map<string, Detector>();
    for (const m of config.models) {
      const name = m.name ?? modelNameOf(m.path);
      detectors.set(name, await loadModel(m.path));
      log.info({ model: name, path: m.path }, 'model loaded');
    }
    const modelOf = createDeviceSelector(config.models.map((m) => ({ devices: m.devices, value: m.name ?? modelNameOf(m.path) })));
    const routes = config.subscriptions.map((s) => ({ template: compileTopicTemplate(s.topic), s }));
    const codecFor = (topic: string): CodecRoute | null => {
      for (const { template, s } of routes) {
        const match = template.match(topic);
        if (match === null) continue;
        const ts = s.timestamp;
        return {
          codec: s.codec,
          match,
          timestamp: ts.source,
          ...(ts.source === 'payload' ? { timestampFormat: ts.format, ...('field' in ts && ts.field !== undefined ? { timestampFields: [ts.field] } : {}) } : {}),
          maxPayloadBytes: s.maxPayloadBytes,
        };
      }
      return null;
    };

    // Metrics and counters.
    const metrics = createServiceMetrics();
    const status: ServiceStatus = { received: 0, otherPartition: 0, scored: 0, deadLetters: 0, alerts: 0, activeDevices: 0, openAnomalies: new Map(), points: { written: 0, confirmed: 0, failed: 0 } };

    // Directories the service writes to are created up front, so a fresh machine needs nothing.
    await mkdir(config.state.checkpointDir, { recursive: true });
    if (config.output.kind === 'line-protocol-file') await mkdir(dirname(config.output.path), { recursive: true });
    else await mkdir(config.influx.spool.dir, { recursive: true });

    // Sink.
    const sinkLog = log.child({ part: 'sink' });
    const onConfirmed = (c: { points: number; confirmedAtMs: number; receivedAtMs?: Float64Array }): void => {
      status.points.confirmed += c.points;
      metrics.pointsWritten(c.points);
      if (c.receivedAtMs !== undefined) for (const r of c.receivedAtMs) if (Number.isFinite(r)) metrics.observeEndToEndSeconds((c.confirmedAtMs - r) / 1000);
    };
    const out = config.output;
    const sink: PointSink =
      out.kind === 'influx'
        ? await InfluxSink.open({
            url: config.influx.url,
            org: config.influx.org ?? '',
            bucket: config.influx.bucket ?? '',
            token: config.influx.token ?? '',
            spool: { dir: config.influx.spool.dir, maxBytes: config.influx.spool.maxBytes, fsync: config.influx.spool.fsync, fsyncIntervalMs: config.influx.spool.fsyncIntervalMs },
            maxBufferedPoints: config.influx.maxBufferedPoints,
            batchSize: config.influx.batchSize,
            flushIntervalMs: config.influx.flushIntervalMs,
            requestTimeoutMs: config.influx.timeoutMs,
            backoff: { initialDelayMs: config.influx.retryInitialMs, maxDelayMs: config.influx.retryMaxMs },
            logger: sinkLog,
            onConfirmed,
          })
        : await LineProtocolFileSink.open({ path: out.path, logger: sinkLog, onConfirmed });
    cleanups.push(async () => {
      sink.dispose();
    });

    // MQTT.
    const source = new MqttSource(
      {
        url: config.mqtt.url,
        clientId: config.mqtt.clientId,
        ...(config.mqtt.username === undefined ? {} : { username: config.mqtt.username }),
        ...(config.mqtt.password === undefined ? {} : { password: config.mqtt.password }),
        ...(config.mqtt.tls.ca === undefined && config.mqtt.tls.cert === undefined && config.mqtt.tls.key === undefined
          ? {}
          : { tls: { caFile: config.mqtt.tls.ca, certFile: config.mqtt.tls.cert, keyFile: config.mqtt.tls.key, rejectUnauthorized: config.mqtt.tls.rejectUnauthorized } }),
        qos: config.mqtt.qos,
        cleanSession: config.mqtt.cleanSession,
        sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
        protocolVersion: config.mqtt.protocolVersion,
        keepaliveSeconds: config.mqtt.keepaliveSeconds,
        reconnectPeriodMs: config.mqtt.reconnectPeriodMs,
        receiveMaximum: config.mqtt.receiveMaximum,
        filters: subscriptionFilters(config),
      },
      log.child({ part: 'mqtt' }),
      now,
    );
    cleanups.push(() => source.close());

    /** Publishes; resolves when the broker acknowledged it, or after a failure was logged. */
    const publishQuietly = (topic: string, payload: string, qos: 0 | 1, retain: boolean, what: string): Promise<void> =>
      source.publish(topic, payload, { qos, retain }).catch((e: unknown) => log.warn({ topic, err: (e as Error).message }, `${what} not published`));
    // The bad message is acknowledged once its dead letter is at the broker (QoS 1 PUBACK).
    const deadLetter = (letter: DeadLetter): void | Promise<void> => {
      status.deadLetters++;
      metrics.deadLetter(letter.reason);
      if (!config.deadLetter.enabled) return;
      const payload = JSON.stringify({ reason: letter.reason, detail: letter.detail, topic: letter.topic, payload: letter.payload, payloadEncoding: letter.payloadEncoding, payloadBytes: letter.payloadBytes, at: new Date(letter.atMs).toISOString() });
      return publishQuietly(fillTopic(config.deadLetter.topic, { reason: letter.reason }), payload, config.deadLetter.qos, false, 'dead letter');
    };

    // Pipeline.
    const encoder = new PointEncoder(out.measurement, (model) => (detectors.get(model) as Detector).channels, 4 * config.pipeline.maxDevices * detectors.size);
    const pipeline: Pipeline = createPipeline(
      {
        detectors,
        modelOf,
        codecFor,
        deadLetter,
        now,
        onError: (e, where) => log.error({ where, err: e instanceof Error ? e.message : String(e) }, 'pipeline error'),
        onStep: (seconds) => metrics.observeStepSeconds(seconds),
        writePoints: async (points) => {
          const records = points.map((p) => encoder.encode(p));
          await sink.write(records);
          status.points.written += records.length;
          // Counters once per model and burst, not once per point.
          const perModel = new Map<string, { readings: number; scored: number }>();
          for (const p of points) {
            let c = perModel.get(p.model);
            if (c === undefined) perModel.set(p.model, (c = { readings: 0, scored: 0 }));
            c.readings++;
            if (p.ready) c.scored++;
            if (p.event !== null && config.alerts.enabled) {
              const d = detectors.get(p.model) as Detector;
              const m = alertMessage(p.event, { device: p.device, model: p.model, tags: p.tags, channels: d.channels, threshold: p.threshold, topicTemplate: config.alerts.topic });
              status.alerts++;
              metrics.alert(p.event.kind);
              if (p.event.kind === 'start') status.openAnomalies.set(p.device, { model: p.model, startMs: p.event.startMs, topChannels: p.event.topChannels.map((c) => d.channels[c.index] ?? '?') });
              else status.openAnomalies.delete(p.device);
              void publishQuietly(m.topic, m.payload, config.alerts.qos, config.alerts.retain, 'alert');
            }
          }
          for (const [model, c] of perModel) {
            const mm = metrics.forModel(model);
            mm.readingsReceived(c.readings);
            mm.readingsScored(c.scored);
            status.scored += c.scored;
          }
        },
      },
      {
        maxDevicesPerModel: config.pipeline.maxDevices,
        chunkLength: config.pipeline.chunkLength,
        maxChunkWaitMs: config.pipeline.maxChunkWaitMs,
        maxBatch: config.pipeline.maxBatch,
        assembleWaitMs: config.pipeline.assembleWaitMs,
        late: config.pipeline.late,
        onMissing: config.pipeline.onMissing,
        maxClockSkewMs: config.pipeline.maxClockSkewMs,
        idleEvictionMs: config.pipeline.idleEvictionMs,
        timestamp: 'payload',
        maxPayloadBytes: Math.max(...config.subscriptions.map((s) => s.maxPayloadBytes)),
        kernel: scoringKernel(),
      },
    );

    // Restore checkpointed device states.
    for (const [name, d] of detectors) {
      const r = await loadCheckpoint(config.state.checkpointDir, name, (d.manifest as { weights?: { sha256: string } }).weights?.sha256 ?? '');
      const m = pipeline.models.get(name);
      if (!r.ok || m === undefined) {
        metrics.checkpoint(r.ok ? 'loaded' : r.code === 'not-found' ? 'not-found' : r.code === 'corrupt' ? 'corrupt' : 'rejected');
        if (!r.ok && r.code !== 'not-found') log.warn({ model: name, reason: r.reason }, 'checkpoint not used; devices start fresh');
        continue;
      }
      for (const dev of r.checkpoint.devices) {
        const slot = m.slots.slotOf(dev.device);
        if (slot >= 0) m.batch.restoreSlot(slot, dev.state);
      }
      metrics.checkpoint('loaded');
      log.info({ model: name, devices: r.checkpoint.devices.length, file: r.file }, 'checkpoint restored');
    }
    const writeCheckpoints = async (): Promise<void> => {
      // Every model's states are taken in one synchronous step (one cut across models), while
      // no write is pending: each state then holds only readings whose points are durable.
      const snapshots = [...pipeline.models].map(([name, m]) => ({
        name,
        devices: [...m.slots.entries()].map(([device, slot]) => {
          const state = m.batch.snapshotSlot(slot);
          return { device, lastTimeMs: state.lastTimeMs, state };
        }),
      }));
      for (const { name, devices } of snapshots) {
        const d = detectors.get(name) as Detector;
        try {
          await saveCheckpoint(config.state.checkpointDir, {
            modelName: name,
            modelWeightsSha256: (d.manifest as { weights?: { sha256: string } }).weights?.sha256 ?? '',
            createdAt: new Date(now()).toISOString(),
            partition: null,
            devices,
          });
          metrics.checkpoint('saved');
        } catch (e) {
          metrics.checkpoint('save-failed');
          log.error({ model: name, err: (e as Error).message }, 'checkpoint not saved');
        }
      }
    };

    // HTTP.
    let httpUrl: string | null = null;
    if (config.http.enabled) {
      const server = await startMetricsServer({
        registry: metrics.registry,
        listen: `${config.http.listen.host}:${config.http.listen.port}`,
        metricsPath: config.http.metricsPath,
        readiness: () => ({
          broker: source.isSubscribed ? { ok: true } : { ok: false, reason: 'not connected and subscribed to the broker' },
          models: { ok: detectors.size > 0 },
          sink: sink.stats().failingSinceMs !== null ? { ok: false, reason: `the sink is failing: ${sink.stats().lastError ?? 'unknown error'}` } : { ok: true },
        }),
        logger: log.child({ part: 'http' }),
      });
      httpUrl = server.url;
      cleanups.push(() => server.close());
    }

    // Hash partitions: every instance subscribes to everything and keeps the devices whose id
    // hashes to its index; the others' messages are acknowledged and counted, not processed.
    const partition = config.partition;
    const ownsDevice = partition.kind === 'hash' ? (device: string): boolean => devicePartition(device, partition.count) === partition.index : (): boolean => true;

    // Go.
    let seq = 0;
    await source.startSettling((topic, payload, receivedAtMs, settle) => {
      if (partition.kind === 'hash') {
        const route = codecFor(topic);
        if (route !== null && !ownsDevice(route.match.device)) {
          status.otherPartition++;
          settle();
          return;
        }
      }
      status.received++;
      // Acknowledged (settled) when its points are stored or it was dead-lettered.
      const message: InboundMessage = { topic, payload, receivedAtMs, seq: seq++, ack: settle };
      pipeline.push(message);
    });
    log.info({ broker: config.mqtt.url, models: [...detectors.keys()], output: out.kind, http: httpUrl, partition: partition.kind === 'hash' ? `${partition.index}/${partition.count}` : partition.kind }, 'convwatch running');
    const timer = setInterval(() => {
      if (pipeline.stats().pendingWrites === 0) void writeCheckpoints();
    }, config.state.checkpointIntervalMs);
    timer.unref();
    // Gauges and the sink's counters, sampled once a second (counters as deltas).
    let seen = { failed: 0, spoolFull: 0, redeliveries: 0 };
    const gauges = setInterval(() => {
      for (const [name, m] of pipeline.models) metrics.forModel(name).setActiveDevices(m.slots.size);
      const mq = source.stats();
      metrics.setUnackedMessages(mq.heldAcks);
      if (mq.redeliveries > seen.redeliveries) metrics.redeliveries(mq.redeliveries - seen.redeliveries);
      const st = sink.stats();
      metrics.setPointsBuffered(st.bufferedPoints);
      const spoolFull = st.dropped['spool-full'] ?? 0;
      if (st.failed > seen.failed) metrics.pointsFailed(st.failed - seen.failed);
      if (spoolFull > seen.spoolFull) metrics.pointsDropped('spool-full', spoolFull - seen.spoolFull);
      seen = { failed: st.failed, spoolFull, redeliveries: mq.redeliveries };
    }, 1000);
    gauges.unref();

    let stopping: Promise<{ unconfirmed: number }> | null = null;
    return {
      httpUrl,
      status: () => {
        status.activeDevices = [...pipeline.models.values()].reduce((s, m) => s + m.slots.size, 0);
        return status;
      },
      stop: (reason: string) => {
        stopping ??= (async () => {
          log.info({ reason }, 'stopping: intake off, draining');
          clearInterval(timer);
          clearInterval(gauges);
          await source.stopIntake();
          await pipeline.complete();
          const { unconfirmed } = await sink.close(config.state.shutdownTimeoutMs);
          if (unconfirmed > 0) log.warn({ unconfirmed }, 'points not confirmed before the shutdown timeout; they stay in the spool for the next start');
          await writeCheckpoints();
          for (const c of cleanups.reverse()) await c().catch(() => {});
          log.info({ received: status.received, scored: status.scored, deadLetters: status.deadLetters, confirmed: status.points.confirmed }, 'stopped');
          return { unconfirmed };
        })();
        return stopping;
      },
    };
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw e;
  }
}
