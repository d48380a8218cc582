import mqtt, { type MqttClient } from 'mqtt';
import { fillTopic } from './alert-message.js';

/** One reading to publish: a device, its time and its channel values. */
export interface ReplayRow {
  readonly device: string;
  readonly timeMs: number;
  readonly values: Readonly<Record<string, number>>;
}

/** How fast to publish. */
export type ReplayPace =
  /** Keep the recording's gaps, divided by `factor` (2 = twice as fast). */
  | { readonly kind: 'speed'; readonly factor: number }
  /** A fixed number of readings per second, whatever the recording's times. */
  | { readonly kind: 'rate'; readonly perSecond: number }
  /** As fast as the in-flight window allows. */
  | { readonly kind: 'max' };

/** Options of {@link replay}. */
export interface ReplayOptions {
  brokerUrl: string;
  clientId: string;
  /** Topic template with `{device}`, e.g. `plant/{device}/data`. */
  topicTemplate: string;
  qos: 0 | 1;
  pace: ReplayPace;
  /** Shift times so the first row is `now()`, keeping the gaps. */
  startNow: boolean;
  /** Unacknowledged QoS-1 publishes allowed at once (mqtt.js stalls past 65,535). */
  maxInFlight: number;
  /** Passes over the rows (Infinity for `--loop`); later passes shift times past the previous pass. */
  passes: number;
  protocolVersion: 4 | 5;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (p: ReplayProgress) => void;
  /** Stops the replay early when it resolves. */
  stop?: Promise<void>;
}

/** Counters of a replay. */
export interface ReplayProgress {
  published: number;
  acknowledged: number;
  failed: number;
  total: number;
  elapsedMs: number;
}

/** The end-of-run summary. */
export interface ReplaySummary extends ReplayProgress {
  /** Acknowledged (QoS 1) or sent (QoS 0) readings per second. */
  ratePerSecond: number;
  stoppedEarly: boolean;
}

/** Largest in-flight window accepted: mqtt.js message ids are 16-bit. */
export const MAX_IN_FLIGHT = 60_000;

/**
 * Publishes rows as readings in the JSON-object codec the service reads by default
 * (`{"time": "<ISO>", "<channel>": value, …}`), keeping the recording's timing scaled by the pace,
 * with a bounded window of unacknowledged publishes. Resolves with the summary once every
 * publish is acknowledged or failed.
 */
export async function replay(rows: readonly ReplayRow[], o: ReplayOptions): Promise<ReplaySummary> {
  if (!Number.isInteger(o.maxInFlight) || o.maxInFlight < 1 || o.maxInFlight > MAX_IN_FLIGHT) {
    throw new Error(`replay: maxInFlight must be an integer in [1, ${MAX_IN_FLIGHT}], got ${o.maxInFlight}`);
  }
  if (o.pace.kind === 'speed' && !(o.pace.factor > 0)) throw new Error(`replay: speed factor must be > 0, got ${o.pace.factor}`);
  if (o.pace.kind === 'rate' && !(o.pace.perSecond > 0)) throw new Error(`replay: rate must be > 0 readings/s, got ${o.pace.perSecond}`);
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const client: MqttClient = await mqtt.connectAsync(o.brokerUrl, { clientId: o.clientId, protocolVersion: o.protocolVersion, reconnectPeriod: 1000 });
  const started = now();
  const p: ReplayProgress = { published: 0, acknowledged: 0, failed: 0, total: Number.isFinite(o.passes) ? rows.length * o.passes : Number.POSITIVE_INFINITY, elapsedMs: 0 };
  let stopped = false;
  void o.stop?.then(() => {
    stopped = true;
  });
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const settle = (ok: boolean): void => {
    inFlight--;
    if (ok) p.acknowledged++;
    else p.failed++;
    const w = wake;
    wake = null;
    w?.();
  };
  const span = rows.length > 1 ? (rows[rows.length - 1] as ReplayRow).timeMs - (rows[0] as ReplayRow).timeMs : 0;
  const firstMs = rows.length > 0 ? (rows[0] as ReplayRow).timeMs : 0;
  const shift = o.startNow ? started - firstMs : 0;
  let lastProgress = 0;
  try {
    outer: for (let pass = 0; pass < o.passes; pass++) {
      for (let i = 0; i < rows.length; i++) {
        if (stopped) break outer;
        const row = rows[i] as ReplayRow;
        // Later passes continue the clock so the service sees increasing times.
        const passShift = pass * (span + (rows.length > 1 ? span / (rows.length - 1) : 1000));
        const recordedOffset = row.timeMs - firstMs + passShift;
        const due =
          o.pace.kind === 'speed' ? started + recordedOffset / o.pace.factor : o.pace.kind === 'rate' ? started + ((pass * rows.length + i) * 1000) / o.pace.perSecond : started;
        const wait = due - now();
        if (wait > 1) await sleep(wait);
        while (inFlight >= o.maxInFlight) await new Promise<void>((r) => (wake = r));
        const timeMs = row.timeMs + shift + passShift;
        const payload = JSON.stringify({ time: new Date(timeMs).toISOString(), ...row.values });
        inFlight++;
        p.published++;
        client.publishAsync(fillTopic(o.topicTemplate, { device: row.device }), payload, { qos: o.qos }).then(
          () => settle(true),
          () => settle(false),
        );
        if (o.onProgress !== undefined && now() - lastProgress > 200) {
          lastProgress = now();
          o.onProgress({ ...p, elapsedMs: now() - started });
        }
      }
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  } finally {
    await client.endAsync();
  }
  const elapsedMs = Math.max(now() - started, 1);
  return { ...p, elapsedMs, ratePerSecond: (p.acknowledged * 1000) / elapsedMs, stoppedEarly: stopped };
}
