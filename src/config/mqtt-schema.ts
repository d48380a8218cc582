import { z } from 'zod';
import { CONFIG_DEFAULTS } from './config-defaults.js';
import { MQTT_URL_SCHEMES, urlProblem } from './network-address.js';
import { checkedString, documented, integer } from './schema-parts.js';

const d = CONFIG_DEFAULTS.mqtt;

/** QoS levels convwatch subscribes and publishes with (QoS 2 buys nothing over QoS 1 + idempotent writes). */
export const MQTT_QOS_LEVELS = [0, 1] as const;
/** MQTT protocol versions: 4 is MQTT 3.1.1, 5 is MQTT 5. */
export const MQTT_PROTOCOL_VERSIONS = [4, 5] as const;

const qos = (what: string, def: 0 | 1): z.ZodDefault<z.ZodLiteral<0 | 1>> =>
  documented(z.literal([...MQTT_QOS_LEVELS]).default(def), { description: `${what} 1 is at-least-once; 0 may lose messages.` });

/** The `mqtt.tls` section: client certificates and trust for `mqtts://` and `wss://`. */
export const mqttTlsSchema = documented(
  z
    .strictObject({
      ca: documented(z.string().min(1).optional(), { description: 'PEM file of the CA(s) that signed the broker certificate. Default: the system trust store.', fsPath: 'input-file' }),
      cert: documented(z.string().min(1).optional(), { description: 'PEM file of the client certificate (mutual TLS); needs `key`.', fsPath: 'input-file' }),
      key: documented(z.string().min(1).optional(), { description: 'PEM file of the client private key; needs `cert`.', fsPath: 'input-file' }),
      rejectUnauthorized: documented(z.boolean().default(d.tls.rejectUnauthorized), {
        description: 'Refuse a broker whose certificate does not verify. Turn off only for tests.',
      }),
    })
    .prefault({}),
  { description: 'TLS options, used with mqtts:// and wss:// URLs.' },
);

/** The `mqtt` section: the connection to the broker the readings come from. */
export const mqttSchema = documented(
  z
    .strictObject({
      url: documented(checkedString((v) => urlProblem(v, MQTT_URL_SCHEMES)).default(d.url), {
        description: 'Broker URL: mqtt:// (TCP), mqtts:// (TLS), ws:// (WebSocket) or wss:// (WebSocket over TLS). Ignored while the embedded broker is enabled.',
      }),
      clientId: documented(z.string().min(1).max(256).optional(), {
        description: 'MQTT client id. Must stay the same across restarts: the broker keeps the persistent session (queued messages) under it.',
        defaultText: 'convwatch-<hostname>[-<instanceId>]',
      }),
      username: documented(z.string().min(1).optional(), { description: 'User name for the broker.' }),
      password: documented(z.string().optional(), {
        description: 'Password for the broker. Prefer `passwordFile` or the environment variable CONVWATCH_MQTT_PASSWORD. Never logged.',
        secret: true,
      }),
      passwordFile: documented(z.string().min(1).optional(), {
        description: 'File holding the broker password (trimmed). Exclusive with `password`.',
        fsPath: 'secret-file',
        secretFor: 'password',
      }),
      tls: mqttTlsSchema,
      qos: qos('QoS of the subscriptions.', d.qos),
      cleanSession: documented(z.boolean().default(d.cleanSession), {
        description: 'Start a new session at every connect. Keep false: a persistent session is what makes the broker hold readings while convwatch is down.',
      }),
      sessionExpirySeconds: documented(integer(0, 4_294_967_295).default(d.sessionExpirySeconds), {
        description: 'MQTT 5: how long the broker keeps the session after a disconnect (4294967295 = never expires).',
        unit: 's',
      }),
      protocolVersion: documented(z.literal([...MQTT_PROTOCOL_VERSIONS]).default(d.protocolVersion), {
        description: 'MQTT protocol version: 5 (MQTT 5) or 4 (MQTT 3.1.1).',
      }),
      keepaliveSeconds: documented(integer(0, 65_535).default(d.keepaliveSeconds), {
        description: 'Keep-alive interval; 0 turns keep-alive off.',
        unit: 's',
      }),
      reconnectPeriodMs: documented(integer(1, 3_600_000).default(d.reconnectPeriodMs), {
        description: 'Pause between reconnect attempts after the connection is lost.',
        unit: 'ms',
      }),
      connectTimeoutMs: documented(integer(1, 600_000).default(d.connectTimeoutMs), {
        description: 'Time allowed for a connection attempt (until CONNACK).',
        unit: 'ms',
      }),
      receiveMaximum: documented(integer(1, 65_535).default(d.receiveMaximum), {
        description: 'MQTT 5: most unacknowledged QoS 1 messages the broker may send at once; bounds the messages in flight inside convwatch.',
        unit: 'messages',
      }),
    })
    .prefault({}),
  { description: 'Connection to the MQTT broker the readings come from (alerts and dead letters go to the same broker).' },
);

/** The `mqtt` section as given (before defaults). */
export type MqttOptionsInput = z.input<typeof mqttSchema>;
/** The `mqtt` section after validation and defaults. */
export type MqttOptionsParsed = z.output<typeof mqttSchema>;
