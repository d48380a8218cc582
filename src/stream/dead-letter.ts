import type { DeadLetter, DeadLetterReason, InboundMessage } from './types.js';

/** Bytes of the payload kept in a dead letter. */
export const DEAD_LETTER_PAYLOAD_BYTES = 1024;

/**
 * The side channel every operator of the pipeline takes for what it drops.
 *
 * An operator hands each dropped message to `deadLetter` and then, only if that returned
 * normally, calls the message's `ack()`. A sink that throws does not stop the stream: the message
 * stays unacknowledged (the broker redelivers it after a reconnect) and the error goes to
 * `onCallbackError`, as do errors thrown by `ack()` and by notification callbacks (`onEvict`).
 * Errors thrown by `onCallbackError` itself are ignored: it is the last resort.
 */
export interface DeadLetterOptions {
  /**
   * Receives every dropped message, synchronously, in the order the operator drops them. It may
   * return a promise that resolves when the letter is safe (published and acknowledged): the
   * message is then acknowledged only after it settles (also when it rejects, reported).
   */
  readonly deadLetter: (letter: DeadLetter) => void | Promise<void>;
  /**
   * Receives errors thrown by `deadLetter`, by a message's `ack()` or by a notification
   * callback; `callback` names which one ('deadLetter', 'ack', 'onEvict', 'now').
   */
  readonly onCallbackError: (error: unknown, callback: string) => void;
}

/**
 * Builds the dead letter of `message`: the reason, the detail and the payload's first
 * {@link DEAD_LETTER_PAYLOAD_BYTES} bytes (UTF-8 text when they are valid text, else base64).
 */
export function deadLetterOf(message: InboundMessage, reason: DeadLetterReason, detail: string, atMs: number): DeadLetter {
  const { text, encoding } = payloadPreview(message.payload);
  return { reason, detail, topic: message.topic, payload: text, payloadEncoding: encoding, payloadBytes: message.payload.length, atMs, source: message };
}

/**
 * Hands a dead letter to the sink, then acknowledges its message (see {@link DeadLetterOptions}
 * for what happens when either throws). Never throws.
 */
export function handOver(letter: DeadLetter, options: DeadLetterOptions): void {
  let handed: void | Promise<void>;
  try {
    handed = options.deadLetter(letter);
  } catch (error) {
    reportCallbackError(options, error, 'deadLetter');
    return;
  }
  if (handed instanceof Promise) {
    // The message is acknowledged once the letter is safe (e.g. the broker acknowledged its
    // publish). A failed hand-over is reported, and the message acknowledged all the same: a bad
    // message must not hold its place in the in-flight window forever.
    handed.then(
      () => ackSource(letter, options),
      (error: unknown) => {
        reportCallbackError(options, error, 'deadLetter');
        ackSource(letter, options);
      },
    );
    return;
  }
  ackSource(letter, options);
}

function ackSource(letter: DeadLetter, options: DeadLetterOptions): void {
  try {
    letter.source.ack();
  } catch (error) {
    reportCallbackError(options, error, 'ack');
  }
}

export function handOverAll(messages: readonly InboundMessage[], reason: DeadLetterReason, detail: string, atMs: number, options: DeadLetterOptions): void {
  for (const message of messages) handOver(deadLetterOf(message, reason, detail, atMs), options);
}

/** Passes `error` to `onCallbackError`, ignoring anything that throws. Never throws. */
export function reportCallbackError(options: DeadLetterOptions, error: unknown, callback: string): void {
  try {
    options.onCallbackError(error, callback);
  } catch {
    // The last resort failed too; there is nowhere left to report to, and the stream must go on.
  }
}

/**
 * Checks the two dead-letter callbacks of an operator's options.
 * @throws Error naming the operator and the option when one is not a function.
 */
export function checkDeadLetterOptions(operator: string, options: DeadLetterOptions): void {
  if (typeof options.deadLetter !== 'function') throw new Error(`${operator}: deadLetter must be a function, got ${typeof options.deadLetter}`);
  if (typeof options.onCallbackError !== 'function') throw new Error(`${operator}: onCallbackError must be a function, got ${typeof options.onCallbackError}`);
}

/** The message of a thrown value, for dead-letter details. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function payloadPreview(payload: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  const n = Math.min(payload.length, DEAD_LETTER_PAYLOAD_BYTES);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // A cut at 1 KiB may split a multi-byte character: back off up to three bytes when truncated.
  const minLength = payload.length > n ? Math.max(0, n - 3) : n;
  for (let length = n; length >= minLength; length--) {
    try {
      const text = decoder.decode(payload.subarray(0, length));
      if (!hasControlCharacters(text)) return { text, encoding: 'utf8' };
      break;
    } catch {
      // not valid UTF-8 at this length; try a shorter cut
    }
  }
  return { text: Buffer.from(payload.buffer, payload.byteOffset, n).toString('base64'), encoding: 'base64' };
}

function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}
