import { basename } from 'node:path';
import { z } from 'zod';
import { modelsSchema, subscriptionsSchema, subscriptionTopicProblem } from './input-schema.js';
import { mqttSchema } from './mqtt-schema.js';
import { influxSchema, outputSchema } from './output-schema.js';
import { addProblem, checkedString, documented, simpleNameProblem } from './schema-parts.js';
import {
  ALERT_TOPIC_PLACEHOLDERS,
  alertsSchema,
  deadLetterSchema,
  embeddedBrokerSchema,
  httpSchema,
  logSchema,
  partitionSchema,
  pipelineSchema,
  rendererProblem,
  stateSchema,
} from './service-schema.js';
import { compileTopicTemplate, parseTopicTemplate } from './topic-template.js';

/**
 * The configuration of `convwatch run`: the one source of truth for every option. Each section
 * lives in its own file (mqtt-schema.ts, input-schema.ts, output-schema.ts, service-schema.ts);
 * this file puts them together and checks the rules that span sections. Every object is strict:
 * an unknown key is an error, not a silently ignored typo.
 *
 * The schema is pure: it touches neither the file system nor the network. load-config.ts adds
 * what needs the machine (files, host name) and returns {@link Config}.
 */
export const configSchema = z
  .strictObject({
    instanceId: documented(checkedString(simpleNameProblem).optional(), {
      description: 'Names this instance among several on one host; part of the default mqtt.clientId.',
      defaultText: 'none',
    }),
    mqtt: mqttSchema,
    subscriptions: subscriptionsSchema,
    models: modelsSchema,
    pipeline: pipelineSchema,
    output: outputSchema,
    influx: influxSchema,
    alerts: alertsSchema,
    deadLetter: deadLetterSchema,
    http: httpSchema,
    state: stateSchema,
    partition: partitionSchema,
    embeddedBroker: embeddedBrokerSchema,
    log: logSchema,
  })
  .superRefine((c, ctx) => {
    if (c.output.kind === 'influx') {
      for (const key of ['org', 'bucket'] as const) {
        if (c.influx[key] === undefined) addProblem(ctx, ['influx', key], undefined, 'must be set when output.kind is "influx"');
      }
    }
    if (c.mqtt.password !== undefined && c.mqtt.passwordFile !== undefined) {
      addProblem(ctx, ['mqtt', 'passwordFile'], c.mqtt.passwordFile, 'must be left out when mqtt.password is set (give the password one way only)');
    }
    if (c.influx.token !== undefined && c.influx.tokenFile !== undefined) {
      addProblem(ctx, ['influx', 'tokenFile'], c.influx.tokenFile, 'must be left out when influx.token is set (give the token one way only)');
    }
    if ((c.mqtt.tls.cert === undefined) !== (c.mqtt.tls.key === undefined)) {
      const [given, missing] = c.mqtt.tls.cert === undefined ? ['key', 'cert'] : ['cert', 'key'];
      addProblem(ctx, ['mqtt', 'tls', missing], undefined, `must be set together with mqtt.tls.${given} (client certificate and key go together)`);
    }
    const hasPassword = c.mqtt.password !== undefined || c.mqtt.passwordFile !== undefined;
    if (c.mqtt.protocolVersion === 4 && hasPassword && c.mqtt.username === undefined) {
      addProblem(ctx, ['mqtt', 'username'], undefined, 'must be set when a password is given with protocolVersion 4 (MQTT 3.1.1 has no password without a user name)');
    }
    checkModelNames(c.models, ctx);
    checkAlertTopic(c.alerts.topic, c.subscriptions.map((s) => s.topic), ctx);
  })
  .transform((c) => ({ ...c, models: c.models.map((m) => ({ ...m, name: m.name ?? modelNameOf(m.path) })) }));

/** The configuration as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
/** The configuration after the schema: defaults applied, but nothing read from the machine yet. */
export type ParsedConfig = z.output<typeof configSchema>;

/** The default model name: the last segment of its directory path. */
export function modelNameOf(path: string): string {
  return basename(path.replace(/[\\/]+$/, ''));
}

function checkModelNames(models: readonly { name?: string; path: string }[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  models.forEach((m, i) => {
    const name = m.name ?? modelNameOf(m.path);
    if (m.name === undefined && simpleNameProblem(name) !== null) {
      addProblem(ctx, ['models', i, 'name'], undefined, `must be set: the directory name ${JSON.stringify(name)} of the path is not a valid model name (letters, digits, ".", "_", "-")`);
      return;
    }
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else if (m.name !== undefined) addProblem(ctx, ['models', i, 'name'], name, `must be unique; models[${first}] already has the name ${JSON.stringify(name)}`);
    else addProblem(ctx, ['models', i, 'name'], undefined, `must be set: the default, the directory name ${JSON.stringify(name)}, is already the name of models[${first}]`);
  });
}

function checkAlertTopic(topic: string, subscriptionTopics: readonly string[], ctx: z.RefinementCtx): void {
  // Templates with syntax errors are reported on their own options.
  if (subscriptionTopics.some((t) => subscriptionTopicProblem(t) !== null) || rendererProblem(topic, null) !== null) return;
  const tagSets = subscriptionTopics.map((t) => new Set(compileTopicTemplate(t).tagNames));
  const common = [...(tagSets[0] ?? [])].filter((tag) => tagSets.every((set) => set.has(tag)));
  const allowed = [...ALERT_TOPIC_PLACEHOLDERS, ...common];
  const stranger = parseTopicTemplate(topic).names.find((n) => !allowed.includes(n));
  if (stranger !== undefined) {
    addProblem(ctx, ['alerts', 'topic'], topic, `may use only ${allowed.map((n) => `{${n}}`).join(', ')} (a tag must appear in every subscription template); {${stranger}} is not one of them`);
  }
}
