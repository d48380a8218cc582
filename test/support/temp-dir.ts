/**
 * A private temporary directory for one test server's config and data, removed when the server
 * is stopped, and also when the test process exits or dies without having stopped it (an exit
 * listener, and an orphan watchdog for deaths by signal).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeIfOrphaned } from './orphan-watchdog.js';

/** A directory created by `createTempDir`. */
export interface TempDir {
  /** Absolute path. */
  readonly path: string;
  /** Deletes the directory and everything in it; idempotent. */
  remove(): Promise<void>;
}

/**
 * Creates a fresh directory `<os tmpdir>/<prefix>XXXXXX` (mode 0700).
 *
 * @param prefix e.g. `'convwatch-mosquitto-'`.
 * @throws the file-system error when the directory cannot be created.
 */
export async function createTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const removeOnExit = (): void => rmSync(path, { recursive: true, force: true });
  process.on('exit', removeOnExit);
  const watchdog = removeIfOrphaned(path);
  let removal: Promise<void> | undefined;
  return {
    path,
    remove() {
      removal ??= (async () => {
        process.off('exit', removeOnExit);
        watchdog.cancel();
        await rm(path, { recursive: true, force: true });
      })();
      return removal;
    },
  };
}
