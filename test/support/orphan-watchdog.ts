/**
 * Cleanup that survives the death of the test process. A watchdog is a tiny `/bin/sh` process
 * that blocks reading a pipe whose only writer is the test process. The kernel closes that pipe
 * when the test process ends in any way (normal exit, SIGKILL, SIGTERM from the test runner, a
 * crash); the watchdog then reads end-of-file and does its cleanup. While the test process
 * lives, cancelling the watchdog kills it without cleanup.
 *
 * This covers what a `process.on('exit')` listener cannot: the listener does not run when the
 * process is killed by a signal, which is how test runners end worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';

/** A started watchdog. */
export interface OrphanWatchdog {
  /** Stops the watchdog without its cleanup (the owner cleaned up itself). Idempotent. */
  cancel(): void;
}

// `read` returns non-zero only at end-of-file, i.e. when the test process is gone.
const WAIT_FOR_PARENT_DEATH = 'while read -r _; do :; done';

/** When the test process dies, kill process `pid` with SIGKILL. */
export function killIfOrphaned(pid: number): OrphanWatchdog {
  return startWatchdog(`${WAIT_FOR_PARENT_DEATH}; kill -KILL "$1" 2>/dev/null`, [String(pid)]);
}

/**
 * When the test process dies, delete directory `path` recursively, after a pause of 1 s that
 * lets servers killed by their own watchdogs finish dying first.
 */
export function removeIfOrphaned(path: string): OrphanWatchdog {
  return startWatchdog(`${WAIT_FOR_PARENT_DEATH}; sleep 1; rm -rf -- "$1"`, [path]);
}

function startWatchdog(script: string, args: readonly string[]): OrphanWatchdog {
  const watchdog: ChildProcess = spawn('/bin/sh', ['-c', script, 'convwatch-test-watchdog', ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // A missing /bin/sh only weakens the guard; the owners' exit listeners still work.
  watchdog.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep the test process alive.
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  let cancelled = false;
  return {
    cancel() {
      if (cancelled) return;
      cancelled = true;
      watchdog.kill('SIGKILL');
    },
  };
}
