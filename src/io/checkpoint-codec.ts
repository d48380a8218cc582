import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DetectorSnapshot } from '../detect/detector.js';
import type { HysteresisSnapshot } from '../detect/hysteresis.js';

/**
 * The checkpoint file format (docs/operations.md, "Checkpoints"): a header line of JSON, then one
 * line of JSON per device.
 *
 * ```
 * {"format":"convwatch-checkpoint","formatVersion":1,"modelName":…,"bodyBytes":N,"bodySha256":…}\n
 * {"device":"press-07","lastTimeMs":1767225600000,"state":{…}}\n          ← N bytes of device lines
 * ```
 *
 * Float32Arrays (ring-buffer histories, the pending forecast) are base64 of their little-endian
 * bytes, so they come back bit for bit (−0, NaN payloads included). Time fields that may be
 * infinite are numbers or one of the strings `"-Infinity"`, `"Infinity"` (NaN is refused). The body's
 * length and SHA-256 are in the header, so truncation and bit rot are detected before parsing.
 * Pure functions of bytes; the files are {@link ./checkpoint-store.ts}'s business.
 */

/** The `format` value of every checkpoint header. */
export const CHECKPOINT_FORMAT = 'convwatch-checkpoint';
/** The format version this code writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Largest header line, bytes. */
export const MAX_CHECKPOINT_HEADER_BYTES = 64 * 1024;
/** Default {@link CheckpointLimits.maxBytes}: 512 MiB. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024;
/** Default {@link CheckpointLimits.maxDevices}. */
export const DEFAULT_MAX_CHECKPOINT_DEVICES = 1_000_000;
/** Default {@link CheckpointLimits.maxDeviceBytes}: one device line, 64 MiB. */
export const DEFAULT_MAX_CHECKPOINT_DEVICE_BYTES = 64 * 1024 * 1024;
/** Longest device id, characters. */
export const MAX_DEVICE_ID_LENGTH = 1024;

/** One device's state in a checkpoint. */
export interface DeviceCheckpoint {
  /** The device id, as the topic template extracted it. */
  readonly device: string;
  /** The pipeline's last accepted reading time for this device (late/duplicate policies), ms; −Infinity for none. Never NaN. */
  readonly lastTimeMs: number;
  /** The detector slot's state ({@link DetectorBatch.snapshotSlot}). */
  readonly state: DetectorSnapshot;
}

/** What a checkpoint holds: the device states of one model (or one partition of its devices). */
export interface Checkpoint {
  /** The model's name (model.json `name`). */
  readonly modelName: string;
  /** SHA-256 (lower-case hex) of the model's weights file: a changed model invalidates the checkpoint. */
  readonly modelWeightsSha256: string;
  /** When the states were taken, ISO 8601 with a time zone, e.g. `2026-01-01T00:00:00.000Z`. */
  readonly createdAt: string;
  /** Which share of the devices this instance serves (1 to 200 characters), or null for all. */
  readonly partition: string | null;
  /**
   * The cut: the input-journal sequence number up to which every entry is reflected in these
   * states (replay starts after it). Non-negative integer; omitted or null without a journal.
   */
  readonly journalSequence?: number | null;
  readonly devices: readonly DeviceCheckpoint[];
}

/** The shape of every device state in a checkpoint; fixed by the model's architecture. */
export interface CheckpointLayout {
  /** Channels C: length of the forecast and of the hysteresis share vectors. */
  readonly channels: number;
  /** Values in each ring-buffer history (`[H, Cin]` flattened), in layer order. */
  readonly historyLengths: readonly number[];
}

/** A checkpoint as read back, with its header fields. */
export interface LoadedCheckpoint extends Checkpoint {
  readonly formatVersion: number;
  readonly journalSequence: number | null;
  /** Position in the store's sequence of saves for this model and partition (1, 2, …). */
  readonly sequence: number;
  /** Null only when there are no devices. */
  readonly layout: CheckpointLayout | null;
}

/** Bounds on what is read or written; anything beyond is refused before allocating for it. */
export interface CheckpointLimits {
  /** Whole file, bytes. Default {@link DEFAULT_MAX_CHECKPOINT_BYTES}. */
  readonly maxBytes?: number;
  /** Devices in one file. Default {@link DEFAULT_MAX_CHECKPOINT_DEVICES}. */
  readonly maxDevices?: number;
  /** One device line, bytes. Default {@link DEFAULT_MAX_CHECKPOINT_DEVICE_BYTES}. */
  readonly maxDeviceBytes?: number;
}

/** A device left out of a written checkpoint, and why. */
export type SkippedDevice = { readonly device: string; readonly reason: string };

/** The bytes of a checkpoint file and what went into them. */
export interface EncodedCheckpoint {
  readonly bytes: Buffer;
  readonly layout: CheckpointLayout | null;
  /** Devices written. */
  readonly devices: number;
  /** Devices whose state could not be written (malformed, or unlike the others' layout). */
  readonly skipped: readonly SkippedDevice[];
}

/** Why bytes are not a usable checkpoint: `corrupt` (damaged, truncated, not a checkpoint) or written by another format version. */
export type CheckpointDecodeFailure = { readonly ok: false; readonly code: 'corrupt' | 'unsupported-version'; readonly reason: string };

/** The outcome of {@link decodeCheckpoint}. */
export type CheckpointDecodeResult = { readonly ok: true; readonly checkpoint: LoadedCheckpoint } | CheckpointDecodeFailure;

/** The layout of one detector slot's state, e.g. of a fresh `batch.snapshotSlot(0)`, to compare with a loaded checkpoint's. */
export function checkpointLayoutOf(snapshot: DetectorSnapshot): CheckpointLayout {
  return { channels: snapshot.forecast.forecast.length, historyLengths: snapshot.forecast.tcn.histories.map((h) => h.length) };
}

/** Whether two layouts are the same. */
export function sameLayout(a: CheckpointLayout, b: CheckpointLayout): boolean {
  return a.channels === b.channels && a.historyLengths.length === b.historyLengths.length && a.historyLengths.every((n, i) => n === b.historyLengths[i]);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Base64 of the little-endian bytes of `values`. */
export function encodeFloat32(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32()).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Inverse of {@link encodeFloat32}; bit-exact.
 * @throws Error when the text is not canonical base64 of a multiple of 4 bytes.
 */
export function decodeFloat32(text: string): Float32Array {
  if (!BASE64.test(text)) throw new Error('is not base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`holds ${bytes.length} bytes, not a whole number of float32 values`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(LITTLE_ENDIAN ? bytes : bytes.swap32());
  return out;
}

/** A time for JSON: finite as a number, ±Infinity as a string (callers refuse NaN before). */
function encodeTime(value: number): number | 'Infinity' | '-Infinity' {
  return Number.isFinite(value) ? value : value > 0 ? 'Infinity' : '-Infinity';
}

const timeMs = z.union([z.number(), z.enum(['Infinity', '-Infinity'])], { error: 'must be a finite number, "Infinity" or "-Infinity"' }).transform((v) => (typeof v === 'number' ? v : Number(v)));
const float32 = z.string().transform((text, ctx) => {
  try {
    return decodeFloat32(text);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const finite = z.number();
const count = z.number().int().min(0);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex digits' });
const isoTime = z
  .string()
  .max(64)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/, { message: 'must be an ISO 8601 time with a zone' })
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'is not a valid date' });
const partitionName = z.string().min(1).max(200);
const modelName = z.string().min(1).max(200);

const layoutSchema = z.strictObject({
  channels: z.number().int().min(1).max(65_536),
  historyLengths: z.array(z.number().int().min(0).max(2 ** 28)).max(1024),
});

const headerSchema = z.strictObject({
  ...{ format: z.literal(CHECKPOINT_FORMAT), formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION) },
  ...{ modelName, modelWeightsSha256: sha256Hex, createdAt: isoTime, partition: partitionName.nullable(), journalSequence: count.nullable() },
  ...{ sequence: z.number().int().min(1), devices: count, layout: layoutSchema.nullable(), bodyBytes: count, bodySha256: sha256Hex },
});
type Header = z.infer<typeof headerSchema>;

/** Mirrors HysteresisSnapshot (src/detect/hysteresis.ts), whose restore() checks values again. */
const hysteresisSchema = z.strictObject({
  ...{ version: z.literal(1), channels: count, phase: z.enum(['idle', 'pending', 'open']) },
  ...{ startMs: finite, lastExceedMs: finite, peakScore: finite, peakMs: finite },
  ...{ readingsSinceStart: count, spanReadings: count, exceedances: count, quietRun: count, contribCount: count },
  ...{ sumShares: z.array(finite), peakShares: z.array(finite) },
});

const deviceSchema = z.strictObject({
  device: z.string().min(1).max(MAX_DEVICE_ID_LENGTH),
  lastTimeMs: timeMs,
  state: z.strictObject({
    lastTimeMs: timeMs,
    forecast: z.strictObject({
      tcn: z.strictObject({ histories: z.array(float32).max(1024), seen: count }),
      forecast: float32,
    }),
    events: hysteresisSchema,
  }),
});

function issuesText(error: z.ZodError, max = 5): string {
  const issues = error.issues.slice(0, max).map((i) => (i.path.length === 0 ? i.message : `${i.path.join('.')}: ${i.message}`));
  if (error.issues.length > max) issues.push(`… ${error.issues.length - max} more`);
  return issues.join('; ');
}

/** Why a device state does not fit `layout` (or is malformed), or null when it fits. */
function layoutProblem(state: DetectorSnapshot, layout: CheckpointLayout): string | null {
  const C = layout.channels;
  if (state.forecast.forecast.length !== C) return `forecast has ${state.forecast.forecast.length} values, the layout ${C} channels`;
  const h = state.forecast.tcn.histories;
  if (h.length !== layout.historyLengths.length) return `state has ${h.length} histories, the layout ${layout.historyLengths.length}`;
  for (let i = 0; i < h.length; i++) {
    if ((h[i] as Float32Array).length !== layout.historyLengths[i]) return `history ${i} has ${(h[i] as Float32Array).length} values, the layout ${layout.historyLengths[i]}`;
  }
  const ev = state.events;
  if (ev.channels !== C || ev.sumShares.length !== C || ev.peakShares.length !== C) return `event state covers ${ev.channels} channels (shares ${ev.sumShares.length}/${ev.peakShares.length}), the layout ${C}`;
  return null;
}

/** The JSON of one device line; throws on what JSON cannot hold faithfully. */
function deviceJson(d: DeviceCheckpoint): unknown {
  const s = d.state;
  if (typeof d.device !== 'string' || d.device.length === 0 || d.device.length > MAX_DEVICE_ID_LENGTH) throw new Error(`device id must be 1 to ${MAX_DEVICE_ID_LENGTH} characters`);
  if (Number.isNaN(d.lastTimeMs) || typeof d.lastTimeMs !== 'number') throw new Error(`lastTimeMs must be a number (not NaN), got ${String(d.lastTimeMs)}`);
  if (Number.isNaN(s.lastTimeMs) || typeof s.lastTimeMs !== 'number') throw new Error(`state.lastTimeMs must be a number (not NaN), got ${String(s.lastTimeMs)}`);
  const ev: HysteresisSnapshot = s.events;
  const r = hysteresisSchema.safeParse(ev);
  if (!r.success) throw new Error(`state.events: ${issuesText(r.error)}`);
  if (!Number.isSafeInteger(s.forecast.tcn.seen) || s.forecast.tcn.seen < 0) throw new Error(`state.forecast.tcn.seen must be a non-negative integer, got ${s.forecast.tcn.seen}`);
  return {
    device: d.device,
    lastTimeMs: encodeTime(d.lastTimeMs),
    state: {
      lastTimeMs: encodeTime(s.lastTimeMs),
      forecast: { tcn: { histories: s.forecast.tcn.histories.map(encodeFloat32), seen: s.forecast.tcn.seen }, forecast: encodeFloat32(s.forecast.forecast) },
      events: ev,
    },
  };
}

function checkMeta(checkpoint: Checkpoint, sequence: number): void {
  const problems: string[] = [];
  if (!modelName.safeParse(checkpoint.modelName).success) problems.push(`modelName must be 1 to 200 characters, got ${JSON.stringify(checkpoint.modelName)}`);
  if (!sha256Hex.safeParse(checkpoint.modelWeightsSha256).success) problems.push(`modelWeightsSha256 must be 64 lower-case hex digits, got ${JSON.stringify(checkpoint.modelWeightsSha256)}`);
  if (!isoTime.safeParse(checkpoint.createdAt).success) problems.push(`createdAt must be an ISO 8601 time with a zone, got ${JSON.stringify(checkpoint.createdAt)}`);
  if (checkpoint.partition !== null && !partitionName.safeParse(checkpoint.partition).success) problems.push(`partition must be null or 1 to 200 characters, got ${JSON.stringify(checkpoint.partition)}`);
  const journal = checkpoint.journalSequence ?? null;
  if (journal !== null && (!Number.isSafeInteger(journal) || journal < 0)) problems.push(`journalSequence must be null or a non-negative integer, got ${journal}`);
  if (!Number.isSafeInteger(sequence) || sequence < 1) problems.push(`sequence must be a positive integer, got ${sequence}`);
  if (problems.length > 0) throw new Error(`checkpoint: ${problems.join('; ')}`);
}

function limitsOf(l: CheckpointLimits): Required<CheckpointLimits> {
  return { maxBytes: l.maxBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES, maxDevices: l.maxDevices ?? DEFAULT_MAX_CHECKPOINT_DEVICES, maxDeviceBytes: l.maxDeviceBytes ?? DEFAULT_MAX_CHECKPOINT_DEVICE_BYTES };
}

/**
 * Serialises a checkpoint. A device whose state is malformed, repeats an id, or differs in layout
 * from the first good device is left out and listed in `skipped` (one bad device must not cost
 * every other device its checkpoint).
 * @throws Error naming the field for bad metadata, or when the result would exceed `limits`
 *   (it could not be read back).
 */
export function encodeCheckpoint(checkpoint: Checkpoint, sequence: number, limits: CheckpointLimits = {}): EncodedCheckpoint {
  checkMeta(checkpoint, sequence);
  const max = limitsOf(limits);
  const lines: Buffer[] = [];
  const skipped: SkippedDevice[] = [];
  const seen = new Set<string>();
  let layout: CheckpointLayout | null = null;
  let bodyBytes = 0;
  for (const d of checkpoint.devices) {
    try {
      if (seen.has(d.device)) throw new Error('appears more than once');
      const candidate: CheckpointLayout = layout ?? checkpointLayoutOf(d.state);
      const problem = layoutProblem(d.state, candidate);
      if (problem !== null) throw new Error(problem);
      const line = Buffer.from(`${JSON.stringify(deviceJson(d))}\n`, 'utf8');
      if (line.length > max.maxDeviceBytes) throw new Error(`state is ${line.length} bytes, more than maxDeviceBytes ${max.maxDeviceBytes}`);
      layout = candidate;
      seen.add(d.device);
      lines.push(line);
      bodyBytes += line.length;
    } catch (e) {
      skipped.push({ device: String(d.device), reason: (e as Error).message });
    }
  }
  if (lines.length > max.maxDevices) throw new Error(`checkpoint: ${lines.length} devices, more than maxDevices ${max.maxDevices}`);
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  const header: Header = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    modelName: checkpoint.modelName,
    modelWeightsSha256: checkpoint.modelWeightsSha256,
    createdAt: checkpoint.createdAt,
    partition: checkpoint.partition,
    journalSequence: checkpoint.journalSequence ?? null,
    sequence,
    devices: lines.length,
    layout: layout === null ? null : { channels: layout.channels, historyLengths: [...layout.historyLengths] },
    bodyBytes,
    bodySha256: hash.digest('hex'),
  };
  const head = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  if (head.length > MAX_CHECKPOINT_HEADER_BYTES) throw new Error(`checkpoint: header is ${head.length} bytes, more than ${MAX_CHECKPOINT_HEADER_BYTES}`);
  if (head.length + bodyBytes > max.maxBytes) throw new Error(`checkpoint: ${head.length + bodyBytes} bytes, more than maxBytes ${max.maxBytes}`);
  return { bytes: Buffer.concat([head, ...lines], head.length + bodyBytes), layout, devices: lines.length, skipped };
}

function corrupt(reason: string): CheckpointDecodeFailure {
  return { ok: false, code: 'corrupt', reason };
}

/**
 * Reads checkpoint bytes, checking everything: header schema and version, body length and
 * SHA-256, every device line's schema, one layout for all, unique device ids, the bounds.
 * Never throws; a failure says what is wrong (with the device line number where one is).
 */
export function decodeCheckpoint(bytes: Uint8Array, limits: CheckpointLimits = {}): CheckpointDecodeResult {
  const max = limitsOf(limits);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length > max.maxBytes) return corrupt(`file is ${buf.length} bytes, more than maxBytes ${max.maxBytes}`);
  if (buf.length === 0) return corrupt('file is empty');
  const headEnd = buf.subarray(0, MAX_CHECKPOINT_HEADER_BYTES + 1).indexOf(10);
  if (headEnd < 0) return corrupt(`no header line in the first ${MAX_CHECKPOINT_HEADER_BYTES} bytes (truncated, or not a checkpoint)`);
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8', 0, headEnd));
  } catch (e) {
    return corrupt(`header line is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== CHECKPOINT_FORMAT) {
    return corrupt(`header is not a ${CHECKPOINT_FORMAT} header`);
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    return { ok: false, code: 'unsupported-version', reason: `formatVersion is ${JSON.stringify(version)}; this convwatch reads version ${CHECKPOINT_FORMAT_VERSION}` };
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) return corrupt(`header: ${issuesText(parsed.error)}`);
  const header = parsed.data;
  if (header.devices > max.maxDevices) return corrupt(`header announces ${header.devices} devices, more than maxDevices ${max.maxDevices}`);
  if ((header.layout === null) !== (header.devices === 0)) return corrupt(`header: layout must be null exactly when there are no devices (devices ${header.devices})`);
  const body = buf.subarray(headEnd + 1);
  if (body.length !== header.bodyBytes) return corrupt(`body is ${body.length} bytes, the header says ${header.bodyBytes} (truncated or appended to)`);
  const sha = createHash('sha256').update(body).digest('hex');
  if (sha !== header.bodySha256) return corrupt(`body SHA-256 is ${sha}, the header says ${header.bodySha256} (damaged)`);

  const devices: DeviceCheckpoint[] = [];
  const ids = new Set<string>();
  let start = 0;
  while (start < body.length) {
    const lineNo = devices.length + 2;
    const end = body.indexOf(10, start);
    if (end < 0) return corrupt(`line ${lineNo}: no final newline`);
    if (end - start > max.maxDeviceBytes) return corrupt(`line ${lineNo}: ${end - start} bytes, more than maxDeviceBytes ${max.maxDeviceBytes}`);
    if (devices.length === header.devices) return corrupt(`more device lines than the ${header.devices} the header announces`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8', start, end));
    } catch (e) {
      return corrupt(`line ${lineNo}: not JSON (${(e as Error).message})`);
    }
    const r = deviceSchema.safeParse(json);
    if (!r.success) return corrupt(`line ${lineNo}: ${issuesText(r.error)}`);
    const d = r.data;
    const problem = layoutProblem(d.state, header.layout as CheckpointLayout);
    if (problem !== null) return corrupt(`line ${lineNo} (device ${JSON.stringify(d.device)}): ${problem}`);
    if (ids.has(d.device)) return corrupt(`line ${lineNo}: device ${JSON.stringify(d.device)} appears twice`);
    ids.add(d.device);
    devices.push(d);
    start = end + 1;
  }
  if (devices.length !== header.devices) return corrupt(`${devices.length} device lines, the header announces ${header.devices}`);
  return {
    ok: true,
    checkpoint: {
      formatVersion: header.formatVersion,
      modelName: header.modelName,
      modelWeightsSha256: header.modelWeightsSha256,
      createdAt: header.createdAt,
      partition: header.partition,
      journalSequence: header.journalSequence,
      sequence: header.sequence,
      layout: header.layout,
      devices,
    },
  };
}
