import { z } from 'zod';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { HTTP_URL_SCHEMES, urlProblem } from './network-address.js';
import { addProblem, checkedString, documented, integer } from './schema-parts.js';

const d = CONFIG_DEFAULTS.influx;

/** Where scored points go: an InfluxDB v2 write API, or a local file of line protocol. */
export const OUTPUT_KINDS = ['influx', 'line-protocol-file'] as const;
/** When the point spool is flushed to disk: never (the OS decides), every `fsyncIntervalMs`, after every append. */
export const FSYNC_MODES = ['never', 'interval', 'always'] as const;

/** Measurement names: letters first, then letters, digits and `_ . : -` (safe in line protocol and as metric prefixes). */
export function measurementProblem(value: string): string | null {
  return /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/.test(value) ? null : 'must be a measurement name: a letter, then letters, digits, "_", ".", ":" or "-" (at most 128)';
}

const measurement = documented(checkedString(measurementProblem).default(CONFIG_DEFAULTS.output.measurement), {
  description: 'Measurement of the points (tags device, model and topic tags; fields score, threshold, anomaly, contrib_<channel>).',
});

/** The `output` section: a discriminated union on `kind`. */
export const outputSchema = documented(
  z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: documented(z.literal('influx'), { description: '`influx`: write to the InfluxDB v2 API configured in `influx` (through the spool).' }),
        measurement,
      }),
      z.strictObject({
        kind: documented(z.literal('line-protocol-file'), { description: '`line-protocol-file`: append the points as InfluxDB line protocol to `path`.' }),
        measurement,
        path: documented(z.string().min(1), { description: 'line-protocol-file only: the file the points are appended to.', fsPath: 'output-file' }),
      }),
    ])
    .prefault({ kind: CONFIG_DEFAULTS.output.kind }),
  { description: 'Where scored points go. The `influx` section is read only when `kind` is influx.' },
);

/** The `output` section after validation. */
export type OutputOptions = z.output<typeof outputSchema>;

/** The `influx.spool` section: the append-only disk buffer between the pipeline and InfluxDB. */
export const spoolSchema = documented(
  z
    .strictObject({
      dir: documented(z.string().min(1).default(d.spool.dir), {
        description: 'Directory of the point spool and its committed offset. Created when missing.',
        fsPath: 'output-dir',
      }),
      maxBytes: documented(integer(1_048_576, 2 ** 50).default(d.spool.maxBytes), {
        description: 'Largest spool on disk; beyond it the oldest unsent points are dropped (counted and logged).',
        unit: 'bytes',
      }),
      fsync: documented(z.enum(FSYNC_MODES).default(d.spool.fsync), {
        description: 'When appends are flushed to disk: never (survives a crash of convwatch, not of the machine), interval, or always (after every append).',
      }),
      fsyncIntervalMs: documented(integer(1, 3_600_000).default(d.spool.fsyncIntervalMs), {
        description: 'With fsync interval: time between flushes.',
        unit: 'ms',
      }),
    })
    .prefault({}),
  { description: 'Append-only disk spool: a message is acknowledged once its points are in it.' },
);

/** The `influx` section: the InfluxDB v2 write API (InfluxDB 2, VictoriaMetrics, …). */
export const influxSchema = documented(
  z
    .strictObject({
      url: documented(checkedString((v) => urlProblem(v, HTTP_URL_SCHEMES)).default(d.url), { description: 'Base URL of the server (the client appends /api/v2/write).' }),
      org: documented(z.string().min(1).optional(), { description: 'Organization. Required when output.kind is influx.' }),
      bucket: documented(z.string().min(1).optional(), { description: 'Bucket. Required when output.kind is influx.' }),
      token: documented(z.string().optional(), {
        description: 'API token. Prefer `tokenFile` or the environment variable CONVWATCH_INFLUX_TOKEN. Never logged.',
        secret: true,
      }),
      tokenFile: documented(z.string().min(1).optional(), {
        description: 'File holding the API token (trimmed). Exclusive with `token`.',
        fsPath: 'secret-file',
        secretFor: 'token',
      }),
      batchSize: documented(integer(1, 100_000).default(d.batchSize), { description: 'Points per write request.', unit: 'points' }),
      flushIntervalMs: documented(integer(1, 3_600_000).default(d.flushIntervalMs), {
        description: 'A partly filled batch is sent after this delay.',
        unit: 'ms',
      }),
      timeoutMs: documented(integer(100, 600_000).default(d.timeoutMs), { description: 'Timeout of one write request.', unit: 'ms' }),
      maxRetries: documented(integer(0, 1_000).default(d.maxRetries), {
        description: 'Retries of a failed batch (network errors, 429, 5xx) before it is given up and counted; other 4xx are never retried.',
        unit: 'retries',
      }),
      retryInitialMs: documented(integer(1, 3_600_000).default(d.retryInitialMs), {
        description: 'First retry delay; doubles per retry, with jitter, up to retryMaxMs. A Retry-After header takes precedence.',
        unit: 'ms',
      }),
      retryMaxMs: documented(integer(1, 86_400_000).default(d.retryMaxMs), { description: 'Longest retry delay.', unit: 'ms' }),
      maxBufferedPoints: documented(integer(1, 100_000_000).default(d.maxBufferedPoints), {
        description: 'Points held in memory for sending; the spool holds the rest.',
        unit: 'points',
      }),
      spool: spoolSchema,
    })
    .prefault({})
    .superRefine((s, ctx) => {
      if (s.retryMaxMs < s.retryInitialMs) addProblem(ctx, ['retryMaxMs'], s.retryMaxMs, `must be at least retryInitialMs (${s.retryInitialMs})`);
      if (s.batchSize > s.maxBufferedPoints) addProblem(ctx, ['batchSize'], s.batchSize, `must be at most maxBufferedPoints (${s.maxBufferedPoints})`);
    }),
  { description: 'The InfluxDB v2 write API the points go to when output.kind is influx.' },
);

/** The `influx` section after validation and defaults (secrets not yet read from files). */
export type InfluxOptionsParsed = z.output<typeof influxSchema>;
