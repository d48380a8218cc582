/**
 * A real Mosquitto 2.0 broker for integration tests: private config and persistence directory in
 * a temp folder, a free port on 127.0.0.1, restart on the same port with the same persistence
 * file, and a crash (SIGKILL) on demand. See docs/testing.md for the configuration choices.
 */
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { findExecutable, type ExecutableSpec } from './find-executable.js';
import { LOOPBACK_HOST, canConnect, freePort } from './free-port.js';
import { spawnManaged, type ManagedProcess } from './managed-process.js';
import { createTempDir } from './temp-dir.js';
import { DEFAULT_START_TIMEOUT_MS, ServerStartError, describeExit, waitUntilReady } from './wait-until-ready.js';

/** When Mosquitto writes its in-memory database (sessions, subscriptions, queued messages) to disk. */
export type MosquittoAutosave =
  /** Every `seconds` seconds (Mosquitto's `autosave_interval`, `autosave_on_changes false`). */
  | { readonly mode: 'interval'; readonly seconds: number }
  /**
   * After `changes` changes (subscriptions, retained and queued messages) with
   * `autosave_on_changes true`. Each save rewrites the whole database: with thousands of queued
   * messages and `changes: 1` the cost grows quadratically, so prefer `interval` for big queues.
   */
  | { readonly mode: 'changes'; readonly changes: number };

/** Options of `startMosquitto`; every field is optional. */
export interface MosquittoOptions {
  /** Port on 127.0.0.1 to listen on; default: a free port from the OS (never 1883). */
  readonly port?: number;
  /** Keep sessions and queued QoS 1/2 messages in a file across restarts; default `true`. */
  readonly persistence?: boolean;
  /** How often the database is saved (matters for `kill9()`); default every 1 second. */
  readonly autosave?: MosquittoAutosave;
  /**
   * `max_inflight_messages`: outgoing QoS 1/2 messages per client awaiting acknowledgement;
   * default 1,000 (Mosquitto's own default is 20); 0 means no limit.
   */
  readonly maxInflightMessages?: number;
  /**
   * `max_queued_messages`: QoS 1/2 messages queued per client beyond those in flight (also for
   * offline persistent sessions); beyond it Mosquitto silently drops. Default 1,000,000
   * (Mosquitto's own default is 1,000); 0 means no limit.
   */
  readonly maxQueuedMessages?: number;
  /** Limit for the broker to accept connections after each (re)start, in ms; default 15,000. */
  readonly startTimeoutMs?: number;
  /** Path of the mosquitto binary; default: `$CONVWATCH_MOSQUITTO_BIN`, `$PATH`, `/usr/sbin`. */
  readonly binary?: string;
}

/** A running test broker. Call `stop()` when done (also when the test failed). */
export interface MosquittoServer {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** The TCP port on 127.0.0.1; stays the same across `restart()`. */
  readonly port: number;
  /** The temp directory with `mosquitto.conf` and the persistence file `mosquitto.db`. */
  readonly dataDir: string;
  /** Whether the broker process is currently running. */
  isRunning(): boolean;
  /**
   * Process id of the running broker, or `undefined` when it is not running; e.g. to pause it
   * with SIGSTOP/SIGCONT in a hang test.
   */
  pid(): number | undefined;
  /**
   * Stops the broker for good: sends `signal` (default SIGTERM, on which Mosquitto saves its
   * database), waits for the exit (SIGKILL after 10 s), deletes `dataDir`. Idempotent.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops the broker gracefully if it is running (SIGTERM: the database is saved) and starts it
   * again on the same port with the same config and persistence file; resolves when it accepts
   * connections. After `kill9()`, starts it from the last autosave.
   *
   * @throws Error after `stop()`; ServerStartError when the new process does not come up.
   */
  restart(): Promise<void>;
  /** Kills the broker with SIGKILL (a crash: no final save) and waits for the exit; keeps `dataDir`. */
  kill9(): Promise<void>;
  /**
   * Forces two database saves (SIGUSR1) and resolves when both were logged, so everything the
   * broker had acknowledged before the call is on disk (the second save surely started after
   * the call). Use before `kill9()`.
   *
   * @throws Error without persistence, when the broker is not running, when Mosquitto logs a save
   *   error, or after `timeoutMs` (default 5,000 ms).
   */
  waitForSave(timeoutMs?: number): Promise<void>;
  /** Output of every broker process started so far (all restarts), in order. */
  logs(): string;
}

/** Default `max_inflight_messages` of test brokers. */
export const DEFAULT_MAX_INFLIGHT_MESSAGES = 1_000;
/** Default `max_queued_messages` of test brokers. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1_000_000;
/** Default autosave of test brokers. */
export const DEFAULT_MOSQUITTO_AUTOSAVE: MosquittoAutosave = { mode: 'interval', seconds: 1 };

/** Where to find the broker binary. */
export const MOSQUITTO_EXECUTABLE: ExecutableSpec = {
  name: 'mosquitto',
  envVar: 'CONVWATCH_MOSQUITTO_BIN',
  extraDirs: ['/usr/sbin', '/usr/local/sbin', '/usr/bin'],
  installHint: 'Install it with `apt-get install mosquitto` (Debian/Ubuntu; the package is Mosquitto 2.0)',
};

const BIND_RETRIES = 3;
const SAVE_POLL_INTERVAL_MS = 10;
const SAVE_LINE = 'Saving in-memory database';
// Logged once the listeners are open; a failed bind exits before it.
const RUNNING_LINE = /mosquitto version \S+ running/;
const SAVE_ERROR_LINE = 'Error saving in-memory database';

/** Settings that go into a generated `mosquitto.conf`. */
export interface MosquittoConfigSettings {
  readonly port: number;
  readonly dataDir: string;
  readonly persistence: boolean;
  readonly autosave: MosquittoAutosave;
  readonly maxInflightMessages: number;
  readonly maxQueuedMessages: number;
  /** Write `user root` (needed when running as root, see below). */
  readonly runAsRoot: boolean;
}

/** Renders the test broker's `mosquitto.conf` (Mosquitto 2.0 syntax). Pure. */
export function mosquittoConfig(settings: MosquittoConfigSettings): string {
  const lines = [
    '# Generated by test/support/mosquitto.ts for one integration test run.',
    `listener ${settings.port} ${LOOPBACK_HOST}`,
    'allow_anonymous true',
    `max_inflight_messages ${settings.maxInflightMessages}`,
    `max_queued_messages ${settings.maxQueuedMessages}`,
    'max_queued_bytes 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  if (settings.persistence) {
    const { autosave } = settings;
    lines.push(
      'persistence true',
      // Mosquitto 2.0 appends the file name to this string as is: the trailing slash is needed.
      `persistence_location ${settings.dataDir}/`,
      // One option, two meanings: seconds, or a count of changes when autosave_on_changes is true.
      `autosave_interval ${autosave.mode === 'interval' ? autosave.seconds : autosave.changes}`,
      `autosave_on_changes ${autosave.mode === 'changes'}`,
    );
  } else {
    lines.push('persistence false');
  }
  // Started as root, Mosquitto drops to the `mosquitto` user, which cannot write our 0700 temp
  // directory ("Error saving in-memory database ... Permission denied"). As another user the
  // option has no effect, so it is only written for root.
  if (settings.runAsRoot) lines.push('user root');
  return `${lines.join('\n')}\n`;
}

/**
 * Starts a Mosquitto broker on 127.0.0.1 and resolves when it accepts TCP connections.
 *
 * @throws Error naming the option when an option is out of range; Error with an install hint
 *   when the binary is missing; ServerStartError (with the broker's output) when it exits or
 *   does not accept connections within `startTimeoutMs`.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoServer> {
  const settings = validateOptions(options);
  const binary = options.binary ?? findExecutable(MOSQUITTO_EXECUTABLE);
  const dir = await createTempDir('convwatch-mosquitto-');
  const configPath = join(dir.path, 'mosquitto.conf');
  let proc: ManagedProcess | undefined;
  let port = 0;
  const pastLogs: string[] = [];
  let stopped = false;

  const launch = async (): Promise<ManagedProcess> => {
    const started = spawnManaged({ name: 'mosquitto', command: binary, args: ['-c', configPath], cwd: dir.path });
    // Our own process must say it is running: a connection alone could reach another broker
    // that holds the port while ours is still on its way to failing the bind.
    const isReady = async (): Promise<boolean> => RUNNING_LINE.test(started.logs()) && canConnect(port);
    await waitUntilReady(started, isReady, `to accept connections on ${LOOPBACK_HOST}:${port}`, settings.startTimeoutMs);
    return started;
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = options.port ?? (await freePort());
      await writeFile(configPath, mosquittoConfig({ ...settings, port, dataDir: dir.path }));
      try {
        proc = await launch();
        break;
      } catch (error) {
        const retry =
          options.port === undefined &&
          attempt < BIND_RETRIES &&
          error instanceof ServerStartError &&
          error.serverLogs.includes('Address already in use');
        if (!retry) throw error;
        pastLogs.push(error.serverLogs);
      }
    }
  } catch (error) {
    await dir.remove();
    throw error;
  }

  const running = (): ManagedProcess | undefined => (proc && !proc.exitInfo() ? proc : undefined);
  const retire = (): void => {
    if (proc) pastLogs.push(proc.logs());
    proc = undefined;
  };

  return {
    url: `mqtt://${LOOPBACK_HOST}:${port}`,
    port,
    dataDir: dir.path,
    isRunning: () => running() !== undefined,
    pid: () => running()?.pid,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopped = true;
      await proc?.stop(signal);
      await dir.remove();
    },
    async restart() {
      if (stopped) throw new Error(`mosquitto on port ${port}: restart() after stop(); start a new broker instead`);
      const current = running();
      if (current) {
        // Mosquitto saves its database and exits 0 on SIGTERM; anything else lost state.
        const exit = await current.stop('SIGTERM');
        if (exit.code !== 0 || current.logs().includes(SAVE_ERROR_LINE)) {
          throw new Error(
            `mosquitto on port ${port} ended with ${describeExit(exit)} on SIGTERM, or failed to save. ` +
              `Its output:\n${current.logs()}`,
          );
        }
      }
      retire();
      proc = await launch();
    },
    async kill9() {
      await proc?.stop('SIGKILL');
    },
    async waitForSave(timeoutMs = 5_000) {
      if (!settings.persistence) throw new Error(`mosquitto on port ${port}: waitForSave() needs persistence: true`);
      const current = running();
      if (!current) throw new Error(`mosquitto on port ${port}: waitForSave() while the broker is not running`);
      await forceSaves(current, 2, timeoutMs);
    },
    logs: () => [...pastLogs, proc?.logs() ?? ''].join(''),
  };
}

/** Sends SIGUSR1 `count` times, each after the save caused by the previous one was logged. */
async function forceSaves(proc: ManagedProcess, count: number, timeoutMs: number): Promise<void> {
  let saves = 0;
  let failure: string | undefined;
  const unsubscribe = proc.onLine((line) => {
    if (line.includes(SAVE_ERROR_LINE)) failure ??= line;
    else if (line.includes(SAVE_LINE)) saves++;
  });
  const deadline = performance.now() + timeoutMs;
  try {
    for (let wanted = 1; wanted <= count; wanted++) {
      process.kill(proc.pid, 'SIGUSR1');
      while (saves < wanted) {
        if (failure !== undefined) throw new Error(`mosquitto (pid ${proc.pid}) could not save its database: ${failure}`);
        if (performance.now() > deadline || proc.exitInfo()) {
          throw new Error(
            `mosquitto (pid ${proc.pid}): ${saves} of ${count} database saves logged within ${timeoutMs} ms. ` +
              `Its output:\n${proc.logs()}`,
          );
        }
        await sleep(SAVE_POLL_INTERVAL_MS);
      }
    }
  } finally {
    unsubscribe();
  }
}

function validateOptions(options: MosquittoOptions): Omit<MosquittoConfigSettings, 'port' | 'dataDir'> & { startTimeoutMs: number } {
  if (options.port !== undefined) requireInteger('port', options.port, 1, 65_535);
  const autosave = options.autosave ?? DEFAULT_MOSQUITTO_AUTOSAVE;
  if (autosave.mode === 'interval') requireInteger('autosave.seconds', autosave.seconds, 1, 86_400);
  else requireInteger('autosave.changes', autosave.changes, 1, 1e9);
  const maxInflightMessages = options.maxInflightMessages ?? DEFAULT_MAX_INFLIGHT_MESSAGES;
  requireInteger('maxInflightMessages', maxInflightMessages, 0, 65_535);
  const maxQueuedMessages = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
  requireInteger('maxQueuedMessages', maxQueuedMessages, 0, 1e9);
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  requireInteger('startTimeoutMs', startTimeoutMs, 1, 600_000);
  return {
    persistence: options.persistence ?? true,
    autosave,
    maxInflightMessages,
    maxQueuedMessages,
    startTimeoutMs,
    runAsRoot: process.getuid?.() === 0,
  };
}

function requireInteger(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`startMosquitto: option ${option} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
