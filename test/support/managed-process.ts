/**
 * A child server process owned by the test process: its output is kept for error messages, it is
 * stopped with a bounded wait, and it never outlives the test process. Two guards see to that:
 * a `process.on('exit')` listener that kills it with SIGKILL when the test process exits without
 * having stopped it, and an orphan watchdog (see orphan-watchdog.ts) for when the test process is
 * killed by a signal or crashes, where no exit listener runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { killIfOrphaned } from './orphan-watchdog.js';

/** How a managed process ended: an exit code, or the signal that killed it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to start. */
export interface ManagedProcessOptions {
  /** Short name used in error messages, e.g. `'mosquitto'`. */
  readonly name: string;
  /** Absolute path of the executable. */
  readonly command: string;
  /** Command-line arguments. */
  readonly args: readonly string[];
  /** Working directory; default: the test process's. */
  readonly cwd?: string;
  /** Environment; default: the test process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Bytes of combined stdout+stderr kept for `logs()` (oldest dropped first); default 1 MiB. */
  readonly maxLogBytes?: number;
}

/** A running (or finished) child process. */
export interface ManagedProcess {
  /** The name given at start. */
  readonly name: string;
  /** Operating-system process id of the server itself (not of a shell). */
  readonly pid: number;
  /** Settles once when the process has exited, for whatever reason; never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** How the process ended, or `undefined` while it runs. */
  exitInfo(): ExitInfo | undefined;
  /** The process's stdout and stderr so far, interleaved in arrival order (bounded). */
  logs(): string;
  /**
   * Calls `listener` with every complete output line from now on (stdout and stderr, each split
   * on newlines separately, without the newline). Returns a function that removes the listener.
   */
  onLine(listener: (line: string) => void): () => void;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; after `timeoutMs` (default
   * 10,000 ms) sends SIGKILL and waits again. Returns at once if the process already exited.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

/** Default bound on kept log output, in bytes. */
export const DEFAULT_MAX_LOG_BYTES = 1 << 20;
/** Default wait after the stop signal before escalating to SIGKILL, in milliseconds. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Starts `options.command` with its stdin closed and its output captured, and installs the
 * exit guards described in this module's header. The child and its pipes do not keep the event
 * loop alive: call `stop()` (it holds the loop while it waits).
 *
 * @throws Error naming the command when the operating system gave no pid (e.g. not executable).
 */
export function spawnManaged(options: ManagedProcessOptions): ManagedProcess {
  const maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
  if (!Number.isInteger(maxLogBytes) || maxLogBytes <= 0) {
    throw new Error(`spawnManaged: maxLogBytes must be a positive integer, got ${maxLogBytes}`);
  }
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logChunks: string[] = [];
  let logBytes = 0;
  const appendLog = (chunk: Buffer | string): void => {
    const text = chunk.toString();
    logChunks.push(text);
    logBytes += text.length;
    while (logBytes > maxLogBytes && logChunks.length > 1) {
      logBytes -= logChunks.shift()?.length ?? 0;
    }
  };
  const lineListeners = new Set<(line: string) => void>();
  const splitLines = (): ((chunk: Buffer) => void) => {
    let partial = '';
    return (chunk) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) for (const listener of lineListeners) listener(line);
    };
  };
  child.stdout?.on('data', appendLog);
  child.stderr?.on('data', appendLog);
  child.stdout?.on('data', splitLines());
  child.stderr?.on('data', splitLines());

  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    // 'close' rather than 'exit': it comes after the output pipes drained, so logs() is complete.
    child.once('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (error) => {
      appendLog(`[${options.name}: ${error.message}]\n`);
      // A failed spawn need not be followed by 'close'; settle here so nobody waits forever.
      if (child.pid === undefined) {
        exit = { code: null, signal: null };
        resolve(exit);
      }
    });
  });

  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`${options.name}: could not start ${options.command} (no pid from the operating system)`);
  }

  const watchdog = killIfOrphaned(pid);
  const killOnExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.on('exit', killOnExit);
  void exited.then(() => {
    process.off('exit', killOnExit);
    watchdog.cancel();
  });
  unrefProcess(child);

  return {
    name: options.name,
    pid,
    exited,
    exitInfo: () => exit,
    logs: () => logChunks.join(''),
    onLine(listener) {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
      if (exit) return exit;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first !== 'timeout') return first;
      appendLog(`[${options.name}: no exit ${timeoutMs} ms after ${signal}; sending SIGKILL]\n`);
      child.kill('SIGKILL');
      return exited;
    },
  };
}

function unrefProcess(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream instanceof Socket) stream.unref();
  }
}
