import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { DeadLetterOptions } from '../../src/stream/dead-letter.js';
import type { DeadLetter, DecodedSample, InboundMessage, SampleValues } from '../../src/stream/types.js';

/** An inbound message whose `ack()` calls are counted in `acks`. */
export interface TestMessage extends InboundMessage {
  acks: number;
}

export function message(topic: string, payload: string | Uint8Array, receivedAtMs = 1_000_000, seq = 0): TestMessage {
  const m: TestMessage = {
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload),
    receivedAtMs,
    seq,
    acks: 0,
    ack() {
      m.acks++;
    },
  };
  return m;
}

/** Dead-letter options that record what they receive. */
export interface Recorder extends DeadLetterOptions {
  readonly letters: DeadLetter[];
  readonly callbackErrors: { error: unknown; callback: string }[];
}

export function recorder(): Recorder {
  const letters: DeadLetter[] = [];
  const callbackErrors: { error: unknown; callback: string }[] = [];
  return {
    letters,
    callbackErrors,
    deadLetter: (letter) => {
      letters.push(letter);
    },
    onCallbackError: (error, callback) => {
      callbackErrors.push({ error, callback });
    },
  };
}

export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A decoded sample with a fresh message behind it (topic `d/<device>`). */
export function sample(device: string, timeMs: number, values: SampleValues, tags: Record<string, string> = {}): DecodedSample {
  return { device, tags, timeMs, values, source: message(`d/${device}`, 'x', timeMs, timeMs) };
}

export function named(entries: Record<string, number>): SampleValues {
  return { kind: 'named', entries: Object.entries(entries) };
}

export function ordered(...values: number[]): SampleValues {
  return { kind: 'ordered', values };
}
