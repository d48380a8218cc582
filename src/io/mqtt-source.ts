import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { PubackGate, type GateEntry } from './puback-gate.js';

/** What the service needs to know to connect and subscribe. Secrets are passed in, never logged. */
export interface MqttSourceOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  /** QoS of the subscriptions (1 for at-least-once). */
  qos: 0 | 1;
  /** false keeps the session (subscriptions and queued QoS-1 messages) across reconnects and restarts. */
  cleanSession: boolean;
  /** MQTT 5 session expiry, seconds. */
  sessionExpirySeconds: number;
  protocolVersion: 4 | 5;
  keepaliveSeconds: number;
  reconnectPeriodMs: number;
  /** MQTT 5 receive maximum: unacknowledged QoS-1 messages the broker may send at once. */
  receiveMaximum?: number;
  /** Topic filters to subscribe to (may be `$share/<group>/…`). */
  filters: readonly string[];
}

/** A logger with pino's method shapes (the service passes a pino child). */
export interface SourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Processes one message. Its PUBACK is sent when it returns (or its promise resolves), after the
 * PUBACKs of every earlier message; if it throws or rejects, no PUBACK is sent and the broker
 * redelivers the message after a reconnect. The next message is handed over without waiting for
 * the promise, so many messages may be in flight (up to the broker's in-flight window).
 */
export type MessageHandler = (topic: string, payload: Buffer, receivedAtMs: number) => void | Promise<void>;

/**
 * A {@link MessageHandler} that reports its outcome through `settle` instead of a returned promise
 * (no promise per message on the hot path): `settle()` when the message is handled, `settle(error)`
 * when it is not (no PUBACK; redelivered after a reconnect). Later calls are ignored.
 */
export type SettlingHandler = (topic: string, payload: Buffer, receivedAtMs: number, settle: (error?: unknown) => void) => void;

/** Counters of an {@link MqttSource}. */
export interface MqttSourceStats {
  received: number;
  acked: number;
  handlerFailures: number;
  reconnects: number;
  /** Redelivered messages recognised as already handled on an earlier connection (not processed again). */
  redeliveries: number;
  /** QoS-1 messages received on this connection whose PUBACK has not left yet. */
  heldAcks: number;
}

/**
 * The MQTT side of the service: one client that subscribes (QoS 1, persistent session) and
 * publishes alerts and dead letters. Acknowledgement is deferred: the handler runs inside
 * `client.handleMessage`, MQTT.js moves on to the next packet at once, and the PUBACK is held by a
 * {@link PubackGate} until the handler's promise resolves (PUBACKs leave in arrival order, corked
 * into one socket write per burst). The handler is in place before the connection opens:
 * messages a persistent session delivers right after CONNACK are never acknowledged without
 * being handled.
 */
export class MqttSource {
  private client: MqttClient | null = null;
  private subscribed = false;
  /** While false, messages are left unacknowledged (the broker redelivers them to the session later). */
  private intakeOpen = false;
  private readonly counters: MqttSourceStats = { received: 0, acked: 0, handlerFailures: 0, reconnects: 0, redeliveries: 0, heldAcks: 0 };
  private readonly gate = new PubackGate();
  /** Sends a packet past the PUBACK capture (set when the client is created). */
  private sendPacket: ((packet: unknown) => void) | null = null;
  private releaseScheduled = false;

  constructor(
    private readonly options: MqttSourceOptions,
    private readonly log: SourceLogger,
    private readonly now: () => number = Date.now,
  ) {}

  get isConnected(): boolean {
    return this.client?.connected === true;
  }

  get isSubscribed(): boolean {
    return this.subscribed && this.isConnected;
  }

  stats(): MqttSourceStats {
    return { ...this.counters, heldAcks: this.gate.held };
  }

  /** Runs the handler; `done` is called once, with the error when the message was not handled. */
  private runHandler(handler: SettlingHandler, topic: string, payload: Buffer, done: (error?: unknown) => void): void {
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      done(error);
    };
    try {
      handler(topic, payload, this.now(), settle);
    } catch (e) {
      settle(e ?? new Error('handler threw'));
    }
  }

  private logFailure(topic: string, e: unknown): void {
    this.counters.handlerFailures++;
    this.log.error({ topic, err: e instanceof Error ? e.message : String(e) }, 'message not processed; left unacknowledged for redelivery');
  }

  private settle(entry: GateEntry, ok: boolean): void {
    this.gate.settle(entry, ok);
    this.scheduleRelease();
  }

  /** Releases settled PUBACKs once the current burst of packets and settlements is through (one socket write for all). */
  private scheduleRelease(): void {
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    queueMicrotask(() => {
      this.releaseScheduled = false;
      const client = this.client;
      const send = this.sendPacket;
      // While disconnected nothing leaves: the entries of a closed connection are redelivered.
      if (client === null || send === null || !client.connected) return;
      const pubacks = this.gate.release();
      if (pubacks.length === 0) return;
      const stream = client.stream;
      stream.cork();
      for (const p of pubacks) send(p);
      process.nextTick(() => stream.uncork());
      this.counters.acked += pubacks.length;
    });
  }

  /**
   * Wraps MQTT.js's internal `_sendPacket` so the PUBACK it sends from the `handleMessage`
   * callback is captured by the gate instead (MQTT.js 5 has no public hook for deferred acks; the
   * wrapper is checked here so an incompatible MQTT.js fails at start, not silently).
   */
  private installPubackCapture(client: MqttClient): void {
    type SendPacket = (packet: { cmd?: string; messageId?: number }, cb?: (error?: Error) => void, ...rest: unknown[]) => void;
    const internal = client as unknown as { _sendPacket?: SendPacket };
    const original = internal._sendPacket;
    if (typeof original !== 'function') throw new Error('MqttSource: this MQTT.js version has no _sendPacket; deferred acknowledgements need MQTT.js 5.x (tested with 5.16)');
    const send = original.bind(client) as SendPacket;
    internal._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined && this.gate.capture(packet.messageId, packet)) {
        cb?.();
        return;
      }
      send(packet, cb, ...rest);
    };
    this.sendPacket = (packet) => send(packet as { cmd?: string });
  }

  /**
   * Connects, installs `handler` and subscribes to the filters. Resolves once subscribed.
   * @throws Error when the first connection or subscription fails (later disconnects reconnect).
   */
  async start(handler: MessageHandler): Promise<void> {
    await this.startSettling((topic, payload, receivedAtMs, settle) => {
      const r = handler(topic, payload, receivedAtMs);
      if (r instanceof Promise) r.then(() => settle(), (e: unknown) => settle(e ?? new Error('handler rejected')));
      else settle();
    });
  }

  /** As {@link start}, with a handler that settles each message through a callback. */
  async startSettling(handler: SettlingHandler): Promise<void> {
    if (this.client !== null) throw new Error('MqttSource.start: already started');
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: o.cleanSession,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepaliveSeconds,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: 30_000,
      resubscribe: true,
      manualConnect: true,
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.protocolVersion === 5
        ? { properties: { sessionExpiryInterval: o.cleanSession ? 0 : o.sessionExpirySeconds, ...(o.receiveMaximum === undefined ? {} : { receiveMaximum: o.receiveMaximum }) } }
        : {}),
      ...(o.tls === undefined
        ? {}
        : {
            ...(o.tls.caFile === undefined ? {} : { ca: readFileSync(o.tls.caFile) }),
            ...(o.tls.certFile === undefined ? {} : { cert: readFileSync(o.tls.certFile) }),
            ...(o.tls.keyFile === undefined ? {} : { key: readFileSync(o.tls.keyFile) }),
            rejectUnauthorized: o.tls.rejectUnauthorized ?? true,
          }),
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    this.intakeOpen = true;
    client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void): void => {
      if (!this.intakeOpen) {
        callback(new Error('intake stopped; message left for redelivery'));
        return;
      }
      this.counters.received++;
      // mqtt-packet hands a Buffer (a view into the socket's read chunk): no copy needed.
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const topic = packet.topic;
      if (packet.qos !== 1 || packet.messageId === undefined) {
        // QoS 0: nothing to acknowledge.
        this.runHandler(handler, topic, payload, (e) => {
          if (e !== undefined) this.logFailure(topic, e);
        });
        callback();
        return;
      }
      const { entry, duplicate } = this.gate.admit(packet.messageId, packet.dup === true, topic, payload);
      if (duplicate) this.counters.redeliveries++;
      else
        this.runHandler(handler, topic, payload, (e) => {
          if (e !== undefined) this.logFailure(topic, e);
          this.settle(entry, e === undefined);
        });
      // MQTT.js sends the PUBACK from inside this callback: the gate captures it (see the
      // _sendPacket wrapper) and MQTT.js moves on to the next packet at once.
      callback();
      this.scheduleRelease();
    };
    this.installPubackCapture(client);
    client.on('connect', (connack) => this.gate.connected(connack.sessionPresent));
    client.on('close', () => this.gate.connectionClosed());
    client.on('reconnect', () => {
      this.counters.reconnects++;
      this.log.warn({ url: o.url, reconnects: this.counters.reconnects }, 'mqtt reconnecting');
    });
    client.on('error', (e) => this.log.warn({ url: o.url, err: e.message }, 'mqtt error'));
    client.on('close', () => this.log.info({ url: o.url }, 'mqtt connection closed'));
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        client.off('error', onError);
        resolve();
      };
      const onError = (e: Error): void => {
        client.off('connect', onConnect);
        reject(new Error(`mqtt: cannot connect to ${o.url}: ${e.message}`));
      };
      client.once('connect', onConnect);
      client.once('error', onError);
      client.connect();
    });
    if (o.filters.length > 0) {
      const granted = await client.subscribeAsync([...o.filters], { qos: o.qos });
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length > 0) throw new Error(`mqtt: the broker refused subscription(s) ${refused.map((g) => g.topic).join(', ')}`);
    }
    this.subscribed = true;
    this.log.info({ url: o.url, clientId: o.clientId, filters: o.filters }, 'mqtt subscribed');
  }

  /** Publishes (QoS 1 resolves on PUBACK). Queued by mqtt.js while disconnected. */
  async publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    if (this.client === null) throw new Error('MqttSource.publish: not started');
    await this.client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain ?? false });
  }

  /**
   * Stops intake. With a persistent session the subscriptions stay (so the broker keeps queueing
   * for us) and messages arriving from now on are left unacknowledged, to be redelivered after
   * the next start; with a clean session the filters are unsubscribed.
   */
  async stopIntake(): Promise<void> {
    this.intakeOpen = false;
    if (this.client === null || !this.subscribed) return;
    this.subscribed = false;
    if (this.client.connected && this.options.cleanSession) await this.client.unsubscribeAsync([...this.options.filters]);
  }

  /** Closes the connection (waits for in-flight publishes). */
  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.subscribed = false;
    if (c !== null) await c.endAsync();
  }
}
