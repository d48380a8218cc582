/**
 * Polling for a condition in integration tests ("all 1,000 messages arrived"), with a time limit
 * and a message that says what was awaited and what was last seen.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** What is awaited, for the error message, e.g. `'1000 messages'`. */
  readonly what: string;
  /** Limit in milliseconds; default 10,000. */
  readonly timeoutMs?: number;
  /** Pause between two checks in milliseconds; default 20. */
  readonly intervalMs?: number;
  /** Describes the current state for the error message, e.g. `() => \`${got.length} received\``. */
  readonly progress?: () => string;
}

/**
 * Resolves as soon as `condition()` returns (or resolves to) `true`; checks at once, then every
 * `intervalMs`.
 *
 * @throws Error "timed out after N ms waiting for <what> (<progress>)" after `timeoutMs`;
 *   rethrows what `condition` throws.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitForOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) {
      const state = options.progress ? ` (${options.progress()})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}${state}`);
    }
    await sleep(intervalMs);
  }
}
