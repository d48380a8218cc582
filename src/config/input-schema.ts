import { z } from 'zod';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { devicePatternProblem } from './device-pattern.js';
import { addProblem, checkedString, documented, integer, simpleNameProblem } from './schema-parts.js';
import { compileTopicTemplate, TopicTemplateError } from './topic-template.js';

/**
 * Payload codecs:
 * - `json-object`: `{"temperature_c": 21.5, "pressure_bar": 1.02, "time": 1704067200000}`: every
 *   member is a channel (by name) except the timestamp member.
 * - `json-array`: `[21.5, 1.02]`, the values in the model's channel order; or, to carry a time,
 *   `{"t": 1704067200000, "v": [21.5, 1.02]}` (exactly the members `t` and `v`).
 * - `csv`: one line `21.5,1.02` in the model's channel order; one more field than the model has
 *   channels means the first field is the time: `1704067200000,21.5,1.02`.
 * - `number`: a bare number, `21.5`, on a per-channel topic (the template has `{channel}`); the
 *   time is the arrival time.
 */
export const CODECS = ['json-object', 'json-array', 'csv', 'number'] as const;
/** One of {@link CODECS}. */
export type Codec = (typeof CODECS)[number];

/**
 * How a payload time is read: `iso` an ISO 8601 string with a zone; `epoch-ms` / `epoch-s` a
 * number (or numeric string) of milliseconds / seconds since 1970-01-01T00:00:00Z; `auto` a
 * string that is not a number is ISO 8601, a number is epoch ms from
 * {@link AUTO_EPOCH_MS_THRESHOLD} up and epoch s below.
 */
export const TIMESTAMP_FORMATS = ['auto', 'iso', 'epoch-ms', 'epoch-s'] as const;
/** One of {@link TIMESTAMP_FORMATS}. */
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

const timestampSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: documented(z.literal('arrival'), { description: '`arrival`: the time the message reached convwatch.' }),
  }),
  z.strictObject({
    source: documented(z.literal('payload'), {
      description: '`payload`: the time in the payload (json-object member, json-array `t`, csv leading field); a payload without one takes the arrival time.',
    }),
    field: documented(z.string().min(1).optional(), {
      description: 'json-object only: the member holding the time.',
      defaultText: 'first present of time, ts, timestamp',
    }),
    format: documented(z.enum(TIMESTAMP_FORMATS).default(CONFIG_DEFAULTS.subscription.timestampFormat), {
      description: 'How the time is written: auto, iso (ISO 8601 with zone), epoch-ms, epoch-s. auto: numbers ≥ 1e11 are ms, smaller ones s; other strings ISO 8601.',
    }),
  }),
]);

/** How a subscription's readings are timed, after defaults. */
export type TimestampOptions = z.output<typeof timestampSchema>;

/** The problem of a subscription topic template (see topic-template.ts), or null. */
export function subscriptionTopicProblem(template: string): string | null {
  try {
    compileTopicTemplate(template);
    return null;
  } catch (e) {
    if (e instanceof TopicTemplateError) return `must be a valid topic template: it ${e.problem}`;
    throw e;
  }
}

/** One entry of `subscriptions`: a topic template and how its payloads are read. */
export const subscriptionSchema = z
  .strictObject({
    topic: documented(checkedString(subscriptionTopicProblem), {
      description: 'Topic template: `{device}` required, `{channel}` for one value per topic (number or json-object codec), any other `{name}` becomes a tag. No + or #.',
    }),
    codec: documented(z.enum(CODECS), { description: 'Payload format: json-object, json-array, csv or number.' }),
    timestamp: documented(timestampSchema.optional(), {
      description: 'Where a reading\'s time comes from: `{ source: payload, field?, format }` or `{ source: arrival }`.',
      defaultText: '{ source: arrival } for the number codec, else { source: payload, format: auto }',
    }),
    maxPayloadBytes: documented(integer(1, 16_777_216).default(CONFIG_DEFAULTS.subscription.maxPayloadBytes), {
      description: 'Larger payloads are dead-lettered unread (reason `oversized`).',
      unit: 'bytes',
    }),
  })
  .superRefine((s, ctx) => {
    if (subscriptionTopicProblem(s.topic) !== null) return; // reported on the topic itself
    const hasChannel = compileTopicTemplate(s.topic).hasChannel;
    if (s.codec === 'number' && !hasChannel) {
      addProblem(ctx, ['topic'], s.topic, 'must contain {channel} with the number codec (a bare number says nothing about which channel it is)');
    }
    if ((s.codec === 'json-array' || s.codec === 'csv') && hasChannel) {
      addProblem(ctx, ['topic'], s.topic, `must not contain {channel} with the ${s.codec} codec ({channel} is for one value per topic: the number or json-object codec)`);
    }
    if (s.codec === 'number' && s.timestamp?.source === 'payload') {
      addProblem(ctx, ['timestamp', 'source'], 'payload', 'must be "arrival" with the number codec (a bare number carries no time)');
    }
    if (s.codec !== 'json-object' && s.timestamp?.source === 'payload' && s.timestamp.field !== undefined) {
      addProblem(ctx, ['timestamp', 'field'], s.timestamp.field, `must be left out with the ${s.codec} codec (only json-object payloads have named members)`);
    }
  })
  .transform((s) => ({
    ...s,
    timestamp: s.timestamp ?? (s.codec === 'number' ? ({ source: 'arrival' } as const) : ({ source: 'payload', format: 'auto' } as const)),
  }));

/** One subscription after validation; `timestamp` is always set. */
export type SubscriptionOptions = z.output<typeof subscriptionSchema>;

/** The `subscriptions` list. */
export const subscriptionsSchema = documented(z.array(subscriptionSchema).min(1), {
  description: 'What to subscribe to. A topic is matched against the templates in order; the first match decodes it.',
});

/** One entry of `models`: a model directory and the devices it serves. */
export const modelEntrySchema = z.strictObject({
  name: documented(checkedString(simpleNameProblem).optional(), {
    description: 'Name of the model in points, alerts and metrics. Unique.',
    defaultText: 'the directory name of `path`',
  }),
  path: documented(z.string().min(1), { description: 'Model directory (model.json + weights.safetensors), as written by `convwatch train`.', fsPath: 'input-dir' }),
  devices: documented(z.array(checkedString((p) => devicePatternProblem(p))).min(1).default(['*']), {
    description: 'Device id patterns this model serves: * any characters, ? one character (e.g. `pump-*`). The first model with a matching pattern wins.',
  }),
});

/** The `models` list. */
export const modelsSchema = documented(z.array(modelEntrySchema).min(1), {
  description: 'Models and the devices they serve. Devices that no pattern matches are dead-lettered (`unknown-device`).',
});
