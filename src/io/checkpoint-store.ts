import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_MAX_CHECKPOINT_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
  sameLayout,
  type Checkpoint,
  type CheckpointLayout,
  type CheckpointLimits,
  type LoadedCheckpoint,
  type SkippedDevice,
} from './checkpoint-codec.js';

/**
 * Checkpoint files in a directory: `<model>[.<partition>].<sequence>.ckpt`, the format of
 * {@link ./checkpoint-codec.ts}. Saves are atomic (temp file, fsync, rename, fsync of the
 * directory) and keep the previous file, so a crash at any point leaves a complete checkpoint.
 * One writer per model and partition at a time: the caller serialises saves.
 */

/** Default {@link SaveCheckpointOptions.keep}: the new checkpoint and the one before. */
export const DEFAULT_CHECKPOINTS_KEPT = 2;
/** Default {@link LoadCheckpointOptions.keepCorrupt}. */
export const DEFAULT_CORRUPT_FILES_KEPT = 3;

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions extends CheckpointLimits {
  /** Checkpoints kept for this model and partition, the new one included; integer ≥ 2. Default 2. */
  readonly keep?: number;
  /** fsync the file and the directory (survives power loss). Default true; false only for tests and tmpfs. */
  readonly fsync?: boolean;
}

/** What {@link saveCheckpoint} wrote. */
export interface SavedCheckpoint {
  readonly file: string;
  readonly sequence: number;
  readonly bytes: number;
  /** Devices written. */
  readonly devices: number;
  /** Devices left out because their state was malformed; log them (they will start fresh). */
  readonly skipped: readonly SkippedDevice[];
  /** Older checkpoint files deleted by retention, and temp files of crashed saves removed. */
  readonly removed: readonly string[];
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions extends CheckpointLimits {
  /** The partition whose checkpoint to read; default null (all devices). */
  readonly partition?: string | null;
  /** When given, a checkpoint whose device layout differs is rejected as `model-mismatch`. */
  readonly expectedLayout?: CheckpointLayout;
  /** Clock for the names of files kept aside (`<file>.corrupt-<time>`). Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Corrupt files kept aside per model and partition; older ones are deleted. Default 3. */
  readonly keepCorrupt?: number;
}

/**
 * Why no checkpoint was loaded: `not-found` (none yet), `model-mismatch` (another model, other
 * weights or another layout), `unsupported-version`, `too-large` (beyond `maxBytes`), `corrupt`
 * (every candidate damaged; each kept aside), `io-error` (the directory or a file cannot be read).
 */
export type CheckpointLoadFailureCode = 'not-found' | 'model-mismatch' | 'unsupported-version' | 'too-large' | 'corrupt' | 'io-error';

/** A checkpoint file that was passed over. */
export interface CheckpointProblem {
  readonly file: string;
  readonly reason: string;
  /** Where a corrupt file was moved, if it was. */
  readonly movedTo?: string;
}

/** The outcome of {@link loadCheckpoint}; `skipped` lists newer files that were corrupt (fell back to an older one). */
export type CheckpointLoadResult =
  | { readonly ok: true; readonly checkpoint: LoadedCheckpoint; readonly file: string; readonly skipped: readonly CheckpointProblem[] }
  | { readonly ok: false; readonly code: CheckpointLoadFailureCode; readonly reason: string; readonly skipped: readonly CheckpointProblem[] };

/** A name made safe for a file: `[A-Za-z0-9_-]`, at most 64 characters, plus a hash of the original when anything changed. */
function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return safe === name ? safe : `${safe}-${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 12)}`;
}

/** The file name stem of a model's (and partition's) checkpoints; never contains '.' or '/'. */
export function checkpointFileStem(modelName: string, partition: string | null = null): string {
  return partition === null ? safeName(modelName) : `${safeName(modelName)}.${safeName(partition)}`;
}

function fileName(stem: string, sequence: number): string {
  return `${stem}.${String(sequence).padStart(8, '0')}.ckpt`;
}

interface Listing {
  /** Committed checkpoints, newest first. */
  readonly checkpoints: { readonly name: string; readonly sequence: number }[];
  readonly temps: string[];
  /** Kept-aside corrupt files, oldest first. */
  readonly corrupt: string[];
}

async function list(dir: string, stem: string): Promise<Listing> {
  const names = await readdir(dir);
  const pattern = new RegExp(`^${stem.replace(/[.-]/g, '\\$&')}\\.(\\d{1,15})\\.ckpt(\\.tmp-.*|\\.corrupt-.*)?$`);
  const out: Listing = { checkpoints: [], temps: [], corrupt: [] };
  for (const name of names) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const suffix = m[2];
    if (suffix === undefined) out.checkpoints.push({ name, sequence: Number(m[1]) });
    else if (suffix.startsWith('.tmp-')) out.temps.push(name);
    else out.corrupt.push(name);
  }
  out.checkpoints.sort((a, b) => b.sequence - a.sequence);
  out.corrupt.sort();
  return out;
}

async function removeAll(dir: string, names: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    await rm(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** fsync a directory so a rename in it is durable; a no-op where the platform cannot. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `checkpoint` as the next file of its model and partition in `dir` (created if missing):
 * temp file (mode 0600), fsync, rename, fsync of the directory; then deletes all but the newest
 * `keep` checkpoints and any temp file a crashed save left behind.
 * @throws Error for bad metadata or a checkpoint beyond the limits (see {@link encodeCheckpoint}),
 *   or the file-system error; on a throw the previous checkpoints are untouched.
 */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint, options: SaveCheckpointOptions = {}): Promise<SavedCheckpoint> {
  const keep = options.keep ?? DEFAULT_CHECKPOINTS_KEPT;
  if (!Number.isInteger(keep) || keep < 2) throw new Error(`saveCheckpoint: keep must be an integer ≥ 2, got ${keep}`);
  const fsync = options.fsync ?? true;
  await mkdir(dir, { recursive: true });
  const stem = checkpointFileStem(checkpoint.modelName, checkpoint.partition);
  const before = await list(dir, stem);
  const sequence = (before.checkpoints[0]?.sequence ?? 0) + 1;
  const encoded = encodeCheckpoint(checkpoint, sequence, options);
  const removed = await removeAll(dir, before.temps);

  const file = join(dir, fileName(stem, sequence));
  const temporary = `${file}.tmp-${process.pid}-${randomUUID()}`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(encoded.bytes);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
  if (fsync) await syncDir(dir);
  const old = before.checkpoints.slice(keep - 1).map((c) => c.name);
  removed.push(...(await removeAll(dir, old)));
  return { file, sequence, bytes: encoded.bytes.length, devices: encoded.devices, skipped: encoded.skipped, removed };
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/**
 * Reads the newest usable checkpoint of `modelName` (and `options.partition`) from `dir`.
 * Temp files of crashed saves are removed. A corrupt newest file is moved aside as
 * `<file>.corrupt-<time>` and the previous one is tried; a file for another model (name, weights
 * hash or layout) or another format version ends the search, since an older one would be older
 * state for the same mismatch. Never throws.
 * @param expectedWeightsSha256 the loaded model's weights hash (lower-case hex).
 */
export async function loadCheckpoint(dir: string, modelName: string, expectedWeightsSha256: string, options: LoadCheckpointOptions = {}): Promise<CheckpointLoadResult> {
  const partition = options.partition ?? null;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES;
  const now = options.now ?? ((): Date => new Date());
  const keepCorrupt = options.keepCorrupt ?? DEFAULT_CORRUPT_FILES_KEPT;
  const skipped: CheckpointProblem[] = [];
  const fail = (code: CheckpointLoadFailureCode, reason: string): CheckpointLoadResult => ({ ok: false, code, reason, skipped });
  const stem = checkpointFileStem(modelName, partition);
  let listing: Listing;
  try {
    listing = await list(dir, stem);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return fail('not-found', `no checkpoint directory ${dir}`);
    return fail('io-error', `cannot list ${dir}: ${err.message}`);
  }
  const what = partition === null ? `model ${JSON.stringify(modelName)}` : `model ${JSON.stringify(modelName)}, partition ${JSON.stringify(partition)}`;
  try {
    await removeAll(dir, listing.temps);
  } catch {
    // A temp file that cannot be removed is still never read; the next save retries.
  }
  if (listing.checkpoints.length === 0) return fail('not-found', `no checkpoint for ${what} in ${dir}`);

  let movedAside = 0;
  for (const candidate of listing.checkpoints) {
    const file = join(dir, candidate.name);
    let bytes: Buffer;
    try {
      const info = await stat(file);
      if (!info.isFile()) return fail('io-error', `${file} is not a regular file`);
      if (info.size > maxBytes) return fail('too-large', `${file} is ${info.size} bytes, more than maxBytes ${maxBytes}`);
      const handle = await open(file, 'r');
      try {
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (e) {
      return fail('io-error', `cannot read ${file}: ${(e as Error).message}`);
    }
    const decoded = decodeCheckpoint(bytes, options);
    if (!decoded.ok && decoded.code === 'unsupported-version') return fail('unsupported-version', `${file}: ${decoded.reason}`);
    const reason = decoded.ok ? sequenceProblem(decoded.checkpoint, candidate.sequence, partition) : decoded.reason;
    if (!decoded.ok || reason !== null) {
      const aside = `${file}.corrupt-${stamp(now())}`;
      try {
        await rename(file, aside);
        movedAside++;
        skipped.push({ file, reason: reason ?? 'corrupt', movedTo: aside });
      } catch (e) {
        skipped.push({ file, reason: `${reason ?? 'corrupt'} (could not move it aside: ${(e as Error).message})` });
      }
      continue;
    }
    const cp = decoded.checkpoint;
    if (cp.modelName !== modelName) return fail('model-mismatch', `${file} was written for model ${JSON.stringify(cp.modelName)}, not ${JSON.stringify(modelName)}`);
    if (cp.modelWeightsSha256 !== expectedWeightsSha256) {
      return fail('model-mismatch', `${file} was written for weights SHA-256 ${cp.modelWeightsSha256}; the loaded model's is ${expectedWeightsSha256}`);
    }
    if (options.expectedLayout !== undefined && cp.layout !== null && !sameLayout(cp.layout, options.expectedLayout)) {
      return fail('model-mismatch', `${file} holds states of layout ${JSON.stringify(cp.layout)}; the model needs ${JSON.stringify(options.expectedLayout)}`);
    }
    if (movedAside > 0) await pruneCorrupt(dir, stem, keepCorrupt);
    return { ok: true, checkpoint: cp, file, skipped };
  }
  if (movedAside > 0) await pruneCorrupt(dir, stem, keepCorrupt);
  return fail('corrupt', `every checkpoint for ${what} is corrupt: ${skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}`);
}

/** A decoded file whose header disagrees with its name was not written there by a save. */
function sequenceProblem(cp: LoadedCheckpoint, sequence: number, partition: string | null): string | null {
  if (cp.sequence !== sequence) return `header says sequence ${cp.sequence}, the file name ${sequence}`;
  if (cp.partition !== partition) return `header says partition ${JSON.stringify(cp.partition)}, the file name ${JSON.stringify(partition)}`;
  return null;
}

async function pruneCorrupt(dir: string, stem: string, keep: number): Promise<void> {
  try {
    const { corrupt } = await list(dir, stem);
    await removeAll(dir, corrupt.slice(0, Math.max(0, corrupt.length - keep)));
  } catch {
    // Pruning is housekeeping; the load result does not depend on it.
  }
}
