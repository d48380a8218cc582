import { open, readdir, readFile, rename, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SinkLogger } from './point-sink.js';
import { scanSegment, SEGMENT_NAME } from './spool-segment.js';

/**
 * The point spool's start-up and its committed offset: finding and checking the segment files
 * left by the previous run (cutting corrupt tails), and reading and replacing `committed.json`.
 */

/** The committed-offset file in the spool directory: `{"version":1,"settledSeq":n}`. */
export const COMMITTED_FILE = 'committed.json';

/** A segment found on disk, after its corrupt tail (if any) was cut off. */
export interface RecoveredSegment {
  readonly path: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly bytes: number;
}

/**
 * Lists the segment files of `dir` in seq order and checks each record (spool-segment.ts); a
 * segment is cut at its first bad record (an error log line per cut) and deleted when nothing
 * is left.
 *
 * @returns the segments, and how many cuts removed how many bytes.
 * @throws the file-system error when a file cannot be read, cut or deleted.
 */
export async function recoverSegments(dir: string, logger: SinkLogger): Promise<{ segments: RecoveredSegment[]; truncations: number; truncatedBytes: number }> {
  const names = (await readdir(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
  const segments: RecoveredSegment[] = [];
  let truncations = 0;
  let truncatedBytes = 0;
  for (const name of names) {
    const path = join(dir, name);
    const firstSeq = Number(SEGMENT_NAME.exec(name)?.[1]);
    const bytes = await readFile(path);
    const scan = scanSegment(bytes, firstSeq);
    if (scan.validBytes < bytes.length) {
      await truncate(path, scan.validBytes);
      truncations++;
      truncatedBytes += bytes.length - scan.validBytes;
      logger.error(
        { spool: dir, segment: path, problem: scan.problem, atByte: scan.validBytes, cutBytes: bytes.length - scan.validBytes },
        'point spool: cut off a corrupt tail (a write torn by a crash, or damage)',
      );
    }
    if (scan.validBytes === 0) {
      await unlink(path);
      continue;
    }
    segments.push({ path, firstSeq, lastSeq: scan.lastSeq, bytes: scan.validBytes });
  }
  return { segments, truncations, truncatedBytes };
}

/** The state a spool resumes from. */
export interface RecoveredSpool {
  readonly segments: RecoveredSegment[];
  /** The committed offset, or (none readable) one before the oldest segment: re-send all. */
  readonly settledSeq: number;
  /** The next seq to give out: after every seq on disk and the offset. */
  readonly nextSeq: number;
  /** Lines on disk with seq > `settledSeq`. */
  readonly unsettledPoints: number;
  readonly truncations: number;
  readonly truncatedBytes: number;
}

/**
 * Recovers a spool directory: {@link readCommittedOffset} and {@link recoverSegments}, and what
 * follows from them.
 * @throws the file-system errors of those.
 */
export async function recoverSpool(dir: string, logger: SinkLogger): Promise<RecoveredSpool> {
  const committed = await readCommittedOffset(dir, logger);
  const { segments, truncations, truncatedBytes } = await recoverSegments(dir, logger);
  const oldest = segments[0];
  const newest = segments[segments.length - 1];
  const settledSeq = committed ?? (oldest === undefined ? 0 : oldest.firstSeq - 1);
  const nextSeq = Math.max(settledSeq, newest === undefined ? 0 : newest.lastSeq) + 1;
  let unsettledPoints = 0;
  for (const segment of segments) unsettledPoints += Math.max(0, segment.lastSeq - Math.max(segment.firstSeq - 1, settledSeq));
  return { segments, settledSeq, nextSeq, unsettledPoints, truncations, truncatedBytes };
}

/**
 * The settled seq stored in `dir`, or null when there is none, or when it is unreadable (then
 * with a warn log: the caller re-sends everything, which only makes duplicates).
 * @throws the file-system error other than "does not exist".
 */
export async function readCommittedOffset(dir: string, logger: SinkLogger): Promise<number | null> {
  const path = join(dir, COMMITTED_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const seq = typeof parsed === 'object' && parsed !== null ? (parsed as { settledSeq?: unknown }).settledSeq : undefined;
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0) return seq;
  } catch {
    // reported below
  }
  logger.warn({ spool: dir, file: path, content: text.slice(0, 100) }, 'point spool: unreadable committed offset; re-sending everything in the spool');
  return null;
}

/**
 * Replaces the committed offset atomically (temp file + rename; `sync`: fsync the temp file
 * first, so a power cut leaves the old or the new offset, never an empty file).
 * @throws the file-system error.
 */
export async function writeCommittedOffset(dir: string, settledSeq: number, sync: boolean): Promise<void> {
  const path = join(dir, COMMITTED_FILE);
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${JSON.stringify({ version: 1, settledSeq })}\n`);
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
