import type { ConfigWarning } from './config-error.js';
import { isTlsUrl, urlHasPassword } from './network-address.js';
import type { Config } from './resolve-config.js';
import { compileTopicTemplate, filtersOverlap } from './topic-template.js';
import { valueAt } from './zod-issues.js';

/**
 * Warnings about a valid configuration: settings that weaken a guarantee (at-least-once,
 * certificate checks) or that are probably not what was meant. Returned as data; the caller
 * logs them. Pure.
 *
 * @param input the configuration as written (file and environment merged, before defaults),
 *   to tell options that were set from options left at their default.
 */
export function configWarnings(config: Config, input: unknown): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  const warn = (path: string, message: string): void => {
    out.push({ path, message });
  };
  const given = (...path: string[]): boolean => valueAt(input, path) !== undefined;
  const m = config.mqtt;

  if (m.qos === 0) warn('mqtt.qos', 'QoS 0 subscriptions are at-most-once: readings are lost on any disconnect; use 1');
  if (m.cleanSession) warn('mqtt.cleanSession', 'a clean session is discarded at every connect: readings published while convwatch is down are lost');
  if (!m.cleanSession && m.protocolVersion === 5 && m.sessionExpirySeconds === 0) {
    warn('mqtt.sessionExpirySeconds', 'is 0: the broker discards the session at disconnect, so readings published while convwatch is down are lost');
  }
  if (urlHasPassword(m.url)) warn('mqtt.url', 'carries a password; prefer mqtt.passwordFile or CONVWATCH_MQTT_PASSWORD');
  if (!isTlsUrl(m.url) && (m.tls.ca !== undefined || m.tls.cert !== undefined)) {
    warn('mqtt.tls', 'certificates are set but mqtt.url is not mqtts:// or wss://, so they are not used');
  }
  if (!m.tls.rejectUnauthorized) warn('mqtt.tls.rejectUnauthorized', 'is false: the broker certificate is not verified (anyone in the path can pose as the broker)');
  if (m.protocolVersion === 4 && given('mqtt', 'receiveMaximum')) warn('mqtt.receiveMaximum', 'is an MQTT 5 setting and is ignored with protocolVersion 4');
  if (config.embeddedBroker.enabled && given('mqtt', 'url')) warn('mqtt.url', 'is ignored: embeddedBroker.enabled is true, so convwatch connects to its own broker');

  const filters = config.subscriptions.map((s) => compileTopicTemplate(s.topic).filter);
  for (let i = 0; i < filters.length; i++) {
    for (let j = i + 1; j < filters.length; j++) {
      if (filtersOverlap(filters[i], filters[j])) {
        warn(
          `subscriptions[${j}].topic`,
          `its filter ${filters[j]} overlaps subscriptions[${i}] (${filters[i]}): a topic matching both is decoded by subscriptions[${i}], and the broker may deliver it twice`,
        );
      }
    }
  }

  const everyDevice = config.models.findIndex((model) => model.devices.includes('*'));
  if (everyDevice >= 0 && everyDevice < config.models.length - 1) {
    warn(`models[${everyDevice + 1}]`, `is never used: models[${everyDevice}] already matches every device ("*") and the first match wins`);
  }

  if (config.output.kind === 'influx' && config.influx.token === undefined) {
    warn('influx.token', 'is not set: InfluxDB 2 refuses writes without a token (VictoriaMetrics ignores it)');
  }
  if (config.output.kind !== 'influx' && given('influx')) warn('influx', `is ignored: output.kind is ${JSON.stringify(config.output.kind)}`);
  if (urlHasPassword(config.influx.url)) warn('influx.url', 'carries a password; use influx.tokenFile or CONVWATCH_INFLUX_TOKEN');

  const p = config.partition;
  if (p.kind === 'shared') {
    if (p.warnRoundRobin) {
      warn(
        'partition.group',
        'shared subscriptions on a round-robin broker (Mosquitto) split one device\'s readings across instances, which breaks per-device state; use a broker with sticky or topic-hash sharing (EMQX hash_topic), partition.kind hash or topics, and set partition.warnRoundRobin to false once it is',
      );
    }
    if (m.protocolVersion === 4) warn('partition.kind', 'shared subscriptions are an MQTT 5 feature; with protocolVersion 4 only some brokers accept them');
  }
  if (p.kind === 'topics') {
    p.filters.forEach((f, i) => {
      if (!filters.some((t) => filtersOverlap(f, t))) warn(`partition.filters[${i}]`, `${f} matches no subscription template: its messages would all be dead-lettered (unmatched-topic)`);
    });
  }
  return out;
}
