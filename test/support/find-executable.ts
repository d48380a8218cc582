/**
 * Locating the server binaries the integration tests run, with an error that says how to
 * install what is missing.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where and how to look for one executable. */
export interface ExecutableSpec {
  /** File name, e.g. `'mosquitto'`. */
  readonly name: string;
  /** Environment variable that, when set, names the executable's path and wins over any search. */
  readonly envVar: string;
  /** Directories searched after `$PATH` (e.g. `/usr/sbin`, often missing from a user's PATH). */
  readonly extraDirs: readonly string[];
  /** One sentence telling how to install it, e.g. "Install it with `apt-get install mosquitto`". */
  readonly installHint: string;
}

/**
 * Returns the absolute path of an executable file for `spec`: `$<envVar>` if set, else the first
 * match in `$PATH`, then in `extraDirs`.
 *
 * @throws Error when `$<envVar>` is set but is not an executable file, or when nothing was found;
 *   the message lists the places looked at and the install hint.
 */
export function findExecutable(spec: ExecutableSpec, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[spec.envVar];
  if (override !== undefined && override !== '') {
    if (isExecutableFile(override)) return override;
    throw new Error(`${spec.envVar}=${override} is not an executable file. ${spec.installHint}`);
  }
  const pathDirs = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  const candidates = [...pathDirs, ...spec.extraDirs].map((dir) => join(dir, spec.name));
  const found = candidates.find(isExecutableFile);
  if (found !== undefined) return found;
  throw new Error(
    `${spec.name} not found: the integration tests start a real ${spec.name} server. ` +
      `${spec.installHint}, or set ${spec.envVar} to the binary's path. ` +
      `Looked in: ${[...new Set(candidates)].join(', ') || '(empty PATH)'}`,
  );
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
