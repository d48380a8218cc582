/**
 * Waiting for a freshly started server: poll a readiness probe until it answers, fail fast when
 * the process exits first, and give up after a time limit. Every failure message carries the
 * server's own output, which is where the reason (bad flag, port in use, permissions) is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './managed-process.js';

/** Default limit for a server to become ready, in milliseconds. */
export const DEFAULT_START_TIMEOUT_MS = 15_000;
/** Pause between two readiness probes, in milliseconds. */
export const READINESS_POLL_INTERVAL_MS = 25;

/** Thrown when a started server never became ready; `exit` tells whether it died. */
export class ServerStartError extends Error {
  constructor(
    message: string,
    /** The server's stdout+stderr up to the failure. */
    readonly serverLogs: string,
    /** How the process ended, or `undefined` if it was still running (timeout). */
    readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/**
 * Polls `probe` every 25 ms until it resolves `true`. Rejections of `probe` count as "not yet".
 *
 * @param proc the server process being waited for.
 * @param probe the readiness check, e.g. "the port accepts connections".
 * @param what words for the message, e.g. `'to accept connections on 127.0.0.1:41234'`.
 * @param timeoutMs limit in milliseconds (default 15,000).
 * @throws ServerStartError when the process exits first (the message has its exit code and
 *   output), or when `timeoutMs` passes (the process is then killed with SIGKILL).
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_START_TIMEOUT_MS,
): Promise<void> {
  const started = performance.now();
  for (;;) {
    const exit = proc.exitInfo();
    if (exit) {
      throw new ServerStartError(
        `${proc.name} (pid ${proc.pid}) exited with ${describeExit(exit)} before it was ready ${what}. ` +
          `Its output:\n${indent(proc.logs())}`,
        proc.logs(),
        exit,
      );
    }
    if (await probe().catch(() => false)) return;
    if (performance.now() - started > timeoutMs) {
      await proc.stop('SIGKILL');
      throw new ServerStartError(
        `${proc.name} (pid ${proc.pid}) was not ready ${what} within ${timeoutMs} ms; killed it. ` +
          `Its output:\n${indent(proc.logs())}`,
        proc.logs(),
        undefined,
      );
    }
    await sleep(READINESS_POLL_INTERVAL_MS);
  }
}

/** `exit code 1` or `signal SIGKILL`, for messages. */
export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return exit.code === null ? 'an unknown status' : `exit code ${exit.code}`;
}

function indent(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed === '' ? '    (no output)' : trimmed.replace(/^/gm, '    ');
}
