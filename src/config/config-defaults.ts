import { deepFreeze } from './deep-freeze.js';

/**
 * Default values of every `convwatch run` option that has one, in the shape of the configuration
 * file. The schema (config-schema.ts) takes its defaults from here, and docs/configuration.md is
 * generated from the schema, so these numbers are written down exactly once.
 *
 * Units are in the names: `Ms` milliseconds, `Seconds` seconds, `Bytes` bytes; counts otherwise.
 */

/** Default MQTT broker: a broker on this machine, plain TCP. */
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';
/** Default InfluxDB (or any server with the InfluxDB v2 write API): this machine, port 8086. */
export const DEFAULT_INFLUX_URL = 'http://127.0.0.1:8086';
/** Default address of the HTTP server for `/metrics`, `/healthz` and `/readyz`: loopback only. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:9464';
/** Default address of the embedded broker: loopback, the MQTT port. */
export const DEFAULT_EMBEDDED_BROKER_LISTEN = '127.0.0.1:1883';
/** Payload fields a `json-object` payload's time is looked up in, first present wins. */
export const DEFAULT_TIMESTAMP_FIELDS: readonly string[] = Object.freeze(['time', 'ts', 'timestamp']);
/**
 * With timestamp format `auto`, a number at or above this is epoch milliseconds, below it epoch
 * seconds. 1e11 ms is 1973-03-03; 1e11 s is the year 5138, so the two ranges cannot be confused
 * for any real reading.
 */
export const AUTO_EPOCH_MS_THRESHOLD = 1e11;

/** Every default, in the configuration's shape. Deeply frozen. */
export const CONFIG_DEFAULTS = deepFreeze({
  instanceId: '0',
  mqtt: {
    url: DEFAULT_MQTT_URL,
    qos: 1 as 0 | 1,
    cleanSession: false,
    /** One week: a persistent session outlives a long outage, but not a decommissioned instance forever. */
    sessionExpirySeconds: 604_800,
    protocolVersion: 5 as 4 | 5,
    keepaliveSeconds: 30,
    reconnectPeriodMs: 1_000,
    connectTimeoutMs: 30_000,
    /** Unacknowledged QoS 1 messages in flight from the broker (MQTT 5 receive maximum). */
    receiveMaximum: 1_000,
    tls: { rejectUnauthorized: true },
  },
  subscription: {
    maxPayloadBytes: 65_536,
    timestampFormat: 'auto' as const,
  },
  pipeline: {
    chunkLength: 1,
    maxChunkWaitMs: 0,
    maxBatch: 256,
    assembleWaitMs: 1_000,
    late: 'drop' as const,
    duplicate: 'drop' as const,
    onMissing: 'hold' as const,
    /** One week: catches seconds-for-milliseconds mistakes, tolerates a gateway that buffered offline for days. */
    maxClockSkewMs: 604_800_000,
    maxDevices: 10_000,
    /** One hour. */
    idleEvictionMs: 3_600_000,
  },
  output: {
    kind: 'influx' as const,
    measurement: 'anomaly',
  },
  influx: {
    url: DEFAULT_INFLUX_URL,
    batchSize: 1_000,
    flushIntervalMs: 1_000,
    timeoutMs: 10_000,
    maxRetries: 5,
    retryInitialMs: 1_000,
    retryMaxMs: 60_000,
    maxBufferedPoints: 100_000,
    spool: {
      dir: 'convwatch-state/spool',
      /** 256 MiB. */
      maxBytes: 268_435_456,
      fsync: 'interval' as const,
      fsyncIntervalMs: 1_000,
    },
  },
  alerts: {
    enabled: true,
    topic: 'convwatch/alerts/{model}/{device}',
    qos: 1 as 0 | 1,
    retain: false,
    topChannels: 3,
  },
  deadLetter: {
    enabled: true,
    topic: 'convwatch/dead-letter/{reason}',
    qos: 1 as 0 | 1,
    maxPayloadBytes: 1_024,
  },
  http: {
    enabled: true,
    listen: DEFAULT_HTTP_LISTEN,
    metricsPath: '/metrics',
    metrics: true,
    health: true,
  },
  state: {
    checkpointDir: 'convwatch-state/checkpoints',
    checkpointIntervalMs: 60_000,
    shutdownTimeoutMs: 30_000,
  },
  partition: {
    kind: 'none' as const,
    warnRoundRobin: true,
  },
  embeddedBroker: {
    enabled: false,
    listen: DEFAULT_EMBEDDED_BROKER_LISTEN,
  },
  log: {
    level: 'info' as const,
  },
});
