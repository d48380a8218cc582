import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * The point spool's on-disk format (docs/delivery.md, "Spool"): segment files
 * `seg-<first seq, 16 digits>.lp` holding records
 *
 * ```
 * #cw1 <firstSeq> <lines> <body bytes> <crc32 of body, 8 hex>\n
 * <line>\n … (exactly <lines> lines)
 * ```
 *
 * The header is a line-protocol comment, so a segment is valid line protocol as it stands
 * (`curl --data-binary @seg-….lp` re-sends it by hand). Records within a segment have
 * consecutive sequence numbers, starting with the one in the file name.
 */

/** Segment file names; group 1 is the first seq. */
export const SEGMENT_NAME = /^seg-(\d{16})\.lp$/;

const HEADER = /^#cw1 (\d{1,16}) (\d{1,9}) (\d{1,12}) ([0-9a-f]{8})$/;
const MAX_HEADER_BYTES = 64;

/** The file name of the segment whose first line has seq `firstSeq`. */
export function segmentFileName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, '0')}.lp`;
}

/**
 * One record: header and lines. Pure.
 * @param lines without newlines (the line-protocol encoder refuses them).
 */
export function encodeSpoolRecord(firstSeq: number, lines: readonly string[]): Buffer {
  const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  const header = `#cw1 ${firstSeq} ${lines.length} ${body.length} ${crc32(body).toString(16).padStart(8, '0')}\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), body]);
}

/** What {@link scanSegment} found. */
export interface SegmentScan {
  /** Length of the valid prefix, bytes. */
  readonly validBytes: number;
  /** Seq of the last line of the valid prefix (`firstSeq − 1` when empty). */
  readonly lastSeq: number;
  /** What is wrong at `validBytes`, or null when the whole segment is valid. */
  readonly problem: string | null;
}

/**
 * Checks a segment's records from the start: header syntax, expected seq, length, CRC-32 and
 * line count. Pure.
 */
export function scanSegment(bytes: Buffer, firstSeq: number): SegmentScan {
  let pos = 0;
  let seq = firstSeq;
  const stop = (problem: string): SegmentScan => ({ validBytes: pos, lastSeq: seq - 1, problem });
  while (pos < bytes.length) {
    const newline = bytes.indexOf(10, pos);
    if (newline < 0 || newline - pos > MAX_HEADER_BYTES) return stop('incomplete record header');
    const header = HEADER.exec(bytes.toString('latin1', pos, newline));
    if (header === null) return stop('unreadable record header');
    const first = Number(header[1]);
    const count = Number(header[2]);
    const bodyEnd = newline + 1 + Number(header[3]);
    if (first !== seq) return stop(`record starts at seq ${first}, expected ${seq}`);
    if (count < 1) return stop('record without lines');
    if (bodyEnd > bytes.length) return stop('record cut short');
    const body = bytes.subarray(newline + 1, bodyEnd);
    if (crc32(body) !== parseInt(header[4], 16)) return stop('record checksum mismatch');
    let newlines = 0;
    for (let at = body.indexOf(10); at >= 0; at = body.indexOf(10, at + 1)) newlines++;
    if (newlines !== count || body[body.length - 1] !== 10) return stop(`record has ${newlines} lines, its header says ${count}`);
    seq = first + count;
    pos = bodyEnd;
  }
  return { validBytes: pos, lastSeq: seq - 1, problem: null };
}

/** Where the next unread record of a segment starts: byte `pos`, seq `seq`. */
export interface SegmentCursor {
  readonly path: string;
  readonly pos: number;
  readonly seq: number;
}

/** A segment to read: its file and the seqs it holds. */
export interface SegmentSpan {
  readonly path: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/**
 * Reads a segment's lines with seq ≥ `fromSeq`, in order, handing each to `take` until it
 * returns false (that line is not taken) or the segment's `lastSeq` (as of the call) is reached. Reads in chunks
 * of `chunkBytes` (more for a larger record), from `cursor` when it is at or before `fromSeq`.
 *
 * @returns the next seq to read and a cursor for the next call; `{ next: fromSeq, cursor: null }`
 *   when the file is gone (deleted meanwhile).
 * @throws Error naming the file and byte when a record cannot be read (checked at open, so only
 *   after outside damage).
 */
export async function readSegmentLines(
  segment: SegmentSpan,
  fromSeq: number,
  cursor: SegmentCursor | null,
  chunkBytes: number,
  take: (seq: number, line: string) => boolean,
): Promise<{ next: number; cursor: SegmentCursor | null }> {
  // A snapshot: records up to it were completely written before this read began.
  const lastSeq = segment.lastSeq;
  let pos = 0;
  let recordSeq = segment.firstSeq;
  if (cursor !== null && cursor.path === segment.path && cursor.seq <= fromSeq) ({ pos, seq: recordSeq } = cursor);
  let handle: FileHandle;
  try {
    handle = await open(segment.path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { next: fromSeq, cursor: null };
    throw error;
  }
  try {
    let buffer: Buffer = Buffer.alloc(0);
    let bufferStart = pos;
    let atEnd = false;
    while (recordSeq <= lastSeq) {
      const offset = pos - bufferStart;
      const record = recordAt(buffer, offset);
      if (record === 'bad') throw new Error(`unreadable record header at byte ${pos}`);
      if (typeof record === 'number' || record === 'incomplete') {
        if (atEnd) throw new Error(`the file ends inside the record at byte ${pos}`);
        const want = Math.max(chunkBytes, typeof record === 'number' ? record : 0);
        buffer = await readAt(handle, pos, want);
        bufferStart = pos;
        atEnd = buffer.length < want;
        continue;
      }
      const { first, count, bodyStart, end } = record;
      if (first + count - 1 >= fromSeq) {
        const lines = buffer.toString('utf8', bodyStart, end - 1).split('\n');
        for (let i = Math.max(0, fromSeq - first); i < count; i++) {
          if (!take(first + i, lines[i])) return { next: first + i, cursor: { path: segment.path, pos, seq: first } };
        }
      }
      pos += end - offset;
      recordSeq = first + count;
    }
    return { next: recordSeq, cursor: { path: segment.path, pos, seq: recordSeq } };
  } catch (error) {
    throw new Error(`reading spool segment ${segment.path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await handle.close();
  }
}

/**
 * The record starting at `offset` of `buffer`: its header fields and where its body starts and
 * ends (exclusive, buffer positions); its total size when the body is not all in the buffer;
 * 'incomplete' when the header is not; 'bad' when it is not a record header.
 */
function recordAt(buffer: Buffer, offset: number): { first: number; count: number; bodyStart: number; end: number } | number | 'incomplete' | 'bad' {
  const newline = buffer.indexOf(10, offset);
  if (newline < 0) return buffer.length - offset > MAX_HEADER_BYTES ? 'bad' : 'incomplete';
  const header = HEADER.exec(buffer.toString('latin1', offset, newline));
  if (header === null) return 'bad';
  const end = newline + 1 + Number(header[3]);
  if (end > buffer.length) return end - offset;
  return { first: Number(header[1]), count: Number(header[2]), bodyStart: newline + 1, end };
}

/** The segment file being appended to. Its owner serialises the calls. */
export class SegmentAppender {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens `path` for appending (creating it). @throws the file-system error. */
  static async open(path: string): Promise<SegmentAppender> {
    return new SegmentAppender(path, await open(path, 'a'));
  }

  /**
   * Appends all of `bytes`, then `fdatasync`s when `sync`. On failure cuts the file back to
   * `sizeBefore` (best effort: otherwise the next start cuts the torn tail) and closes it.
   * @throws the file-system error.
   */
  async append(bytes: Buffer, sizeBefore: number, sync: boolean): Promise<void> {
    try {
      // Synchronous on purpose: a small append into the page cache takes microseconds, a
      // thread-pool round trip about a hundred, and the MQTT acks of the readings wait for it.
      writeAllSync(this.handle.fd, bytes);
      if (sync) await this.handle.datasync();
    } catch (error) {
      await this.handle.truncate(sizeBefore).catch(() => undefined);
      await this.handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** @throws the file-system error. */
  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  /** Closes, after an `fdatasync` when `sync`. @throws the file-system error. */
  async close(sync: boolean): Promise<void> {
    if (sync) await this.handle.datasync();
    await this.handle.close();
  }
}

/** Writes all of `bytes` to `fd` (looping over short writes). */
function writeAllSync(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

async function readAt(handle: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, got, length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
}
