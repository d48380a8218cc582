import { open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import type { Tensor } from '../nn/tensor.js';
import { SafetensorsError } from '../model/safetensors-error.js';
import { parseSafetensors, positiveIntegerOption, serializeSafetensors, type ParseSafetensorsOptions, type SafetensorsContents } from '../model/safetensors.js';

/** Default {@link ReadSafetensorsFileOptions.maxFileBytes}: 1 GiB. */
export const DEFAULT_MAX_FILE_BYTES = 2 ** 30;

/** Options of {@link readSafetensorsFile}. */
export interface ReadSafetensorsFileOptions extends ParseSafetensorsOptions {
  /** Largest accepted file, in bytes; checked before reading. Default {@link DEFAULT_MAX_FILE_BYTES}. */
  readonly maxFileBytes?: number;
}

/**
 * Reads and parses a safetensors file. The size is checked against `maxFileBytes` before any
 * buffer is allocated. `options.source` defaults to `path`.
 * @throws SafetensorsError as {@link parseSafetensors}, or `file-too-large`.
 * @throws the file system's error (ENOENT, EACCES, ...) when the file cannot be read.
 */
export async function readSafetensorsFile(path: string, options: ReadSafetensorsFileOptions = {}): Promise<SafetensorsContents> {
  const source = options.source ?? path;
  const maxFileBytes = positiveIntegerOption('maxFileBytes', options.maxFileBytes, DEFAULT_MAX_FILE_BYTES);
  const handle = await open(path, 'r');
  let bytes: Uint8Array;
  try {
    const { size } = await handle.stat();
    if (size > maxFileBytes) {
      const detail = `the file has ${size} bytes, more than maxFileBytes (${maxFileBytes})`;
      throw new SafetensorsError({ code: 'file-too-large', source, detail });
    }
    bytes = new Uint8Array(size);
    let filled = 0;
    // The file may shrink while we read; parse what was there rather than trailing zeros.
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    bytes = bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
  return parseSafetensors(bytes, { ...options, source });
}

/**
 * Writes tensors as a safetensors file (see {@link serializeSafetensors}) atomically: the bytes
 * go to a temporary file beside `path`, are flushed to disk, and the temporary file is renamed
 * over `path`, so readers see either the old file or the complete new one.
 * @throws SafetensorsError as {@link serializeSafetensors} (nothing is written then).
 * @throws the file system's error when writing or renaming fails (the temporary file is removed).
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

