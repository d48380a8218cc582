import { z } from 'zod';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { parseListenAddress, type ListenAddress } from './network-address.js';
import { MQTT_QOS_LEVELS } from './mqtt-schema.js';
import { addProblem, checkedString, documented, integer } from './schema-parts.js';
import { compileTopicRenderer, parseTopicTemplate, TopicTemplateError, topicFilterProblem } from './topic-template.js';

/** What happens to a reading older than the device's last one. */
export const LATE_POLICIES = ['drop', 'accept'] as const;
/** What happens to a reading with the same time as the device's last one. */
export const DUPLICATE_POLICIES = ['drop'] as const;
/** Channels still missing when a reading is flushed: hold the last value, skip the reading, or dead-letter it. */
export const MISSING_POLICIES = ['hold', 'skip', 'dead-letter'] as const;
/** Log levels (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Placeholders an alert topic may use besides the tags common to all subscription templates. */
export const ALERT_TOPIC_PLACEHOLDERS: readonly string[] = Object.freeze(['device', 'model', 'kind']);
/** Placeholders a dead-letter topic may use. */
export const DEAD_LETTER_TOPIC_PLACEHOLDERS: readonly string[] = Object.freeze(['reason']);

const p = CONFIG_DEFAULTS.pipeline;

/** The `pipeline` section: chunking, batching, ordering and gap policies. */
export const pipelineSchema = documented(
  z
    .strictObject({
      chunkLength: documented(integer(1, 4_096).default(p.chunkLength), { description: 'Readings per model step (L of the [1, C, L] chunk).', unit: 'readings' }),
      maxChunkWaitMs: documented(integer(0, 3_600_000).default(p.maxChunkWaitMs), {
        description: 'A partly filled chunk is stepped after this long; 0 steps every reading at once.',
        unit: 'ms',
      }),
      maxBatch: documented(integer(1, 65_536).default(p.maxBatch), { description: 'Most devices advanced together in one model step.', unit: 'devices' }),
      assembleWaitMs: documented(integer(0, 3_600_000).default(p.assembleWaitMs), {
        description: 'Per-channel topics: how long a reading waits for its sibling channels before onMissing applies.',
        unit: 'ms',
      }),
      late: documented(z.enum(LATE_POLICIES).default(p.late), {
        description: 'A reading older than the device\'s last: drop (dead letter `late`) or accept (scored in arrival order).',
      }),
      duplicate: documented(z.enum(DUPLICATE_POLICIES).default(p.duplicate), {
        description: 'A reading with the same time as the device\'s last: drop (dead letter `duplicate`).',
      }),
      onMissing: documented(z.enum(MISSING_POLICIES).default(p.onMissing), {
        description: 'Channels missing when a reading is flushed: hold (repeat the last value), skip (drop the reading, counted), dead-letter (`missing-channels`).',
      }),
      maxClockSkewMs: documented(integer(0, 3_153_600_000_000).default(p.maxClockSkewMs), {
        description: 'Payload times farther than this from the arrival time are dead-lettered (`time-out-of-range`); 0 turns the check off (replays of old recordings).',
        unit: 'ms',
      }),
      maxDevices: documented(integer(1, 10_000_000).default(p.maxDevices), {
        description: 'Most devices with state at once; readings of further devices are dead-lettered (`device-limit`).',
        unit: 'devices',
      }),
      idleEvictionMs: documented(integer(0, 31_536_000_000).default(p.idleEvictionMs), {
        description: 'A device silent this long is checkpointed and its state dropped; 0 never evicts.',
        unit: 'ms',
      }),
    })
    .prefault({}),
  { description: 'How readings become model steps, and what happens to late, duplicate and incomplete ones.' },
);

const qos = (what: string, def: 0 | 1): z.ZodDefault<z.ZodLiteral<0 | 1>> =>
  documented(z.literal([...MQTT_QOS_LEVELS]).default(def), { description: `QoS of ${what}.` });

/** The problem of an output topic template; with `allowed` null any placeholder name passes (checked later). */
export function rendererProblem(template: string, allowed: readonly string[] | null): string | null {
  try {
    if (allowed === null) parseTopicTemplate(template);
    else compileTopicRenderer(template, allowed);
    return null;
  } catch (e) {
    if (e instanceof TopicTemplateError) return `must be a valid topic template: it ${e.problem}`;
    throw e;
  }
}

const a = CONFIG_DEFAULTS.alerts;

/** The `alerts` section: anomaly start/end events published to MQTT. */
export const alertsSchema = documented(
  z
    .strictObject({
      enabled: documented(z.boolean().default(a.enabled), { description: 'Publish anomaly events.' }),
      topic: documented(checkedString((t) => rendererProblem(t, null)).default(a.topic), {
        description: 'Topic template of events: {device}, {model}, {kind} (start or end), and tags that every subscription template has.',
      }),
      qos: qos('event messages', a.qos),
      retain: documented(z.boolean().default(a.retain), { description: 'Publish events with the retain flag (the last event per topic stays on the broker).' }),
      openAfter: documented(integer(1, 1_000_000).optional(), {
        description: 'Readings above the threshold in a row that open an event; overrides the model\'s hysteresis.',
        unit: 'readings',
        defaultText: 'the model\'s events.openAfter',
      }),
      closeAfter: documented(integer(1, 1_000_000).optional(), {
        description: 'Readings below the threshold in a row that close an event; overrides the model\'s hysteresis.',
        unit: 'readings',
        defaultText: 'the model\'s events.closeAfter',
      }),
      topChannels: documented(integer(0, 1_024).default(a.topChannels), {
        description: 'Channels with the largest attribution listed in an event.',
        unit: 'channels',
      }),
    })
    .prefault({}),
  { description: 'Anomaly events (start and end) published to MQTT.' },
);

const dl = CONFIG_DEFAULTS.deadLetter;

/** The `deadLetter` section: where dropped messages are published. */
export const deadLetterSchema = documented(
  z
    .strictObject({
      enabled: documented(z.boolean().default(dl.enabled), { description: 'Publish dead letters; when off they are only counted and logged.' }),
      topic: documented(checkedString((t) => rendererProblem(t, DEAD_LETTER_TOPIC_PLACEHOLDERS)).default(dl.topic), {
        description: 'Topic template of dead letters; {reason} is the only placeholder.',
      }),
      qos: qos('dead-letter messages', dl.qos),
      maxPayloadBytes: documented(integer(0, 65_536).default(dl.maxPayloadBytes), {
        description: 'Bytes of the original payload echoed in a dead letter (UTF-8 text, else base64).',
        unit: 'bytes',
      }),
    })
    .prefault({}),
  { description: 'Messages that cannot be processed, published with the reason.' },
);

const listenAddress = (problemFree: ListenAddress | string): problemFree is ListenAddress => typeof problemFree !== 'string';

/**
 * A `host:port` option with a default, parsed into {@link ListenAddress}. (The return type is
 * inferred: written out as `ZodType<…>` it would lose the "optional in the input" flag.)
 */
export function listenSchema(def: string) {
  return z
    .string()
    .default(def)
    .transform((value, ctx) => {
      const parsed = parseListenAddress(value);
      if (listenAddress(parsed)) return parsed;
      ctx.addIssue({ code: 'custom', message: parsed, input: value });
      return z.NEVER;
    });
}

function metricsPathProblem(value: string): string | null {
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(value)) return 'must be a URL path starting with / (letters, digits, . _ ~ - /)';
  if (value === '/healthz' || value === '/readyz') return 'must differ from /healthz and /readyz';
  return null;
}

const h = CONFIG_DEFAULTS.http;

/** The `http` section: Prometheus metrics and health probes. */
export const httpSchema = documented(
  z
    .strictObject({
      enabled: documented(z.boolean().default(h.enabled), { description: 'Run the HTTP server.' }),
      listen: documented(listenSchema(h.listen), { description: 'host:port to listen on; port 0 takes a free port (tests). Loopback by default.' }),
      metricsPath: documented(checkedString(metricsPathProblem).default(h.metricsPath), { description: 'Path of the Prometheus metrics.' }),
      metrics: documented(z.boolean().default(h.metrics), { description: 'Serve metrics.' }),
      health: documented(z.boolean().default(h.health), { description: 'Serve /healthz (process alive) and /readyz (connected, subscribed, models loaded, sink healthy).' }),
    })
    .prefault({}),
  { description: 'HTTP server for Prometheus metrics and health probes.' },
);

const s = CONFIG_DEFAULTS.state;

/** The `state` section: per-device checkpoints and shutdown. */
export const stateSchema = documented(
  z
    .strictObject({
      checkpointDir: documented(z.string().min(1).default(s.checkpointDir), {
        description: 'Directory of the per-device state checkpoints. Created when missing.',
        fsPath: 'output-dir',
      }),
      checkpointIntervalMs: documented(integer(1_000, 86_400_000).default(s.checkpointIntervalMs), { description: 'Time between checkpoints.', unit: 'ms' }),
      shutdownTimeoutMs: documented(integer(0, 3_600_000).default(s.shutdownTimeoutMs), {
        description: 'On SIGTERM/SIGINT: longest wait for the pipeline and the spool to drain before the final checkpoint.',
        unit: 'ms',
      }),
    })
    .prefault({}),
  { description: 'Checkpoints of per-device state, and shutdown.' },
);

/** Partitioning modes for running several instances: see the `partition` section. */
export const PARTITION_KINDS = ['none', 'hash', 'topics', 'shared'] as const;
/** `partition.index` value that takes the index from the host name's trailing `-<n>` (StatefulSet pods). */
export const HOSTNAME_ORDINAL = 'hostname-ordinal';

/** The `partition` section: a discriminated union on `kind`. */
export const partitionSchema = documented(
  z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: documented(z.literal('none'), { description: '`none`: this instance serves every device.' }) }),
      z
        .strictObject({
          kind: documented(z.literal('hash'), { description: '`hash`: subscribe to everything, keep the devices whose id hashes to `index` (FNV-1a 32-bit mod count).' }),
          count: documented(integer(1, 1_024), { description: 'hash: number of instances.', unit: 'instances' }),
          index: documented(z.union([integer(0, 1_023), z.literal(HOSTNAME_ORDINAL)]), {
            description: 'hash: this instance, 0 to count - 1, or "hostname-ordinal" (the host name\'s trailing -<n>, as in a StatefulSet). Env: CONVWATCH_PARTITION_INDEX.',
          }),
        })
        .superRefine((v, ctx) => {
          if (typeof v.index === 'number' && v.index >= v.count) addProblem(ctx, ['index'], v.index, `must be less than partition.count (${v.count})`);
        }),
      z.strictObject({
        kind: documented(z.literal('topics'), { description: '`topics`: subscribe to these filters instead of the templates\' filters.' }),
        filters: documented(z.array(checkedString((f) => topicFilterProblem(f))).min(1), { description: 'topics: MQTT topic filters this instance subscribes to.' }),
      }),
      z.strictObject({
        kind: documented(z.literal('shared'), { description: '`shared`: MQTT 5 shared subscription $share/<group>/<filter>; the broker splits messages between the group.' }),
        group: documented(checkedString((g) => (/^[^/+#\u0000]+$/.test(g) ? null : 'must be a non-empty name without /, +, # or NUL')), {
          description: 'shared: share group name.',
        }),
        warnRoundRobin: documented(z.boolean().default(CONFIG_DEFAULTS.partition.warnRoundRobin), {
          description: 'shared: warn at start that round-robin sharing (Mosquitto) splits a device across instances; set false on a broker with sticky or topic-hash sharing.',
        }),
      }),
    ])
    .prefault({ kind: CONFIG_DEFAULTS.partition.kind }),
  { description: 'Scale-out: which devices this instance serves. State is per device, so a device must always reach the same instance.' },
);

/** The `embeddedBroker` section: an in-process broker for the demo and tests. */
export const embeddedBrokerSchema = documented(
  z
    .strictObject({
      enabled: documented(z.boolean().default(CONFIG_DEFAULTS.embeddedBroker.enabled), {
        description: 'Start an in-process MQTT broker and connect to it (mqtt.url is then ignored). For the demo and tests; sessions live in memory.',
      }),
      listen: documented(listenSchema(CONFIG_DEFAULTS.embeddedBroker.listen), { description: 'host:port of the embedded broker; a busy port falls back to a free one.' }),
    })
    .prefault({}),
  { description: 'In-process MQTT broker (the embedded default of `npm start`).' },
);

/** The `log` section. */
export const logSchema = documented(
  z.strictObject({ level: documented(z.enum(LOG_LEVELS).default(CONFIG_DEFAULTS.log.level), { description: 'Log level: fatal, error, warn, info, debug, trace or silent.' }) }).prefault({}),
  { description: 'Logging (JSON lines on stderr).' },
);
