import type { AnomalyEvent } from '../detect/hysteresis.js';

/** The JSON published on the alert topic when an anomaly event starts or ends. */
export interface AlertPayload {
  readonly kind: 'start' | 'end';
  readonly device: string;
  readonly model: string;
  /** Topic placeholders other than device and channel. */
  readonly tags: Readonly<Record<string, string>>;
  /** ISO 8601 UTC. */
  readonly startTime: string;
  readonly endTime?: string;
  readonly peakScore: number;
  readonly peakTime: string;
  readonly threshold: number;
  readonly readings: number;
  readonly exceedances: number;
  /** Channels most responsible, highest share first. */
  readonly topChannels: ReadonlyArray<{ readonly channel: string; readonly share: number }>;
}

/** Replaces `{name}` placeholders in an alert topic template; unknown names are left as they are. */
export function fillTopic(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Builds the alert of one event: topic from the template (`{device}`, `{model}`, `{kind}`, tags) and the JSON payload. */
export function alertMessage(
  event: AnomalyEvent,
  context: { device: string; model: string; tags: Readonly<Record<string, string>>; channels: readonly string[]; threshold: number; topicTemplate: string },
): { topic: string; payload: string } {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const payload: AlertPayload = {
    kind: event.kind,
    device: context.device,
    model: context.model,
    tags: context.tags,
    startTime: iso(event.startMs),
    ...(event.endMs === undefined ? {} : { endTime: iso(event.endMs) }),
    peakScore: event.peakScore,
    peakTime: iso(event.peakMs),
    threshold: context.threshold,
    readings: event.readings,
    exceedances: event.exceedances,
    topChannels: event.topChannels.map((c) => ({ channel: context.channels[c.index] ?? `#${c.index}`, share: c.share })),
  };
  const topic = fillTopic(context.topicTemplate, { ...context.tags, device: context.device, model: context.model, kind: event.kind });
  return { topic, payload: JSON.stringify(payload) };
}
