import { z } from 'zod';
import { ACTIVATION_NAMES, type ActivationName } from '../nn/activations.js';
import { TCN_LIMITS } from '../nn/tcn.js';
import { DEFAULT_FORECAST_KIND, FORECAST_KINDS, type ForecastKind } from './forecaster.js';

/** The `format` value every convwatch model.json carries. */
export const MODEL_FORMAT = 'convwatch-model';
/** The manifest version this code writes and reads. */
export const MODEL_FORMAT_VERSION = 1;
/** Largest accepted model.json, bytes: a manifest is small; anything larger is not ours. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Name of the weights file inside a model directory. */
export const WEIGHTS_FILE = 'weights.safetensors';
/** Name of the manifest inside a model directory. */
export const MANIFEST_FILE = 'model.json';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const positiveFinite = finite.refine((v) => v > 0, { message: 'must be > 0' });
/** Values the model stores as float32: they must stay finite (and non-zero where positive) after rounding. */
const float32 = finite.refine((v) => Number.isFinite(Math.fround(v)), { message: 'is outside the float32 range (±3.4e38)' });
const positiveFloat32 = float32.refine((v) => Math.fround(v) > 0, { message: 'must be > 0 as a float32 (≥ 1.4e-45)' });
const channelsInt = z.number().int().min(1).max(TCN_LIMITS.maxChannels);

const activationSchema = z.object({
  name: z.enum(ACTIVATION_NAMES as unknown as [ActivationName, ...ActivationName[]]),
  negativeSlope: finite.optional(),
  alpha: finite.optional(),
});

/** model.json, version 1. Every field is documented in docs/model-format.md. */
export const modelManifestSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    formatVersion: z.literal(MODEL_FORMAT_VERSION),
    name: z.string().min(1).max(200),
    createdAt: z.string().max(64),
    /** Channel names in the order the model reads them. */
    channels: z.array(z.string().min(1).max(200)).min(1).max(TCN_LIMITS.maxChannels),
    normalization: z.object({ mean: z.array(float32), std: z.array(positiveFloat32) }),
    architecture: z.object({
      kind: z.literal('tcn-forecaster'),
      inChannels: channelsInt,
      outChannels: channelsInt,
      hiddenChannels: z.union([channelsInt, z.array(channelsInt).min(1).max(TCN_LIMITS.maxBlocks)]),
      kernelSize: z.number().int().min(1).max(TCN_LIMITS.maxKernelSize),
      dilations: z.array(z.number().int().min(1).max(TCN_LIMITS.maxDilation)).min(1).max(TCN_LIMITS.maxBlocks),
      activation: activationSchema,
      /** What the output stands for; absent in files written before the option, which are `'level'`. */
      forecast: z.enum(FORECAST_KINDS as unknown as [ForecastKind, ...ForecastKind[]]).default(DEFAULT_FORECAST_KIND),
    }),
    receptiveField: z.number().int().min(1).max(TCN_LIMITS.maxReceptiveField),
    score: z.object({ method: z.literal('mean-z2'), center: z.array(float32), scale: z.array(positiveFloat32) }),
    /** Threshold calibration as produced by detect/threshold (method, value, params). */
    threshold: z.object({ method: z.enum(['quantile', 'pot']), value: positiveFinite, params: z.record(z.string(), z.unknown()) }),
    events: z.object({ openAfter: z.number().int().min(1).max(1_000_000), closeAfter: z.number().int().min(1).max(1_000_000) }),
    training: z.object({
      source: z.string().max(4096).optional(),
      dataSha256: z.string().max(128).optional(),
      rows: z.number().int().min(0),
      trainRows: z.number().int().min(0),
      validationRows: z.number().int().min(0),
      calibrationReadings: z.number().int().min(0),
      epochs: z.number().int().min(0),
      bestEpoch: z.number().int().min(0),
      trainLoss: z.number().nullable(),
      validationLoss: z.number().nullable(),
      seed: z.number().int(),
      durationMs: z.number().min(0),
      hyperParameters: z.record(z.string(), z.unknown()),
    }),
    weights: z.object({ file: z.literal(WEIGHTS_FILE), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  })
  .superRefine((m, ctx) => {
    const C = m.channels.length;
    const same = (path: (string | number)[], n: number, what: string): void => {
      if (n !== C) ctx.addIssue({ code: 'custom', path, message: `${what} has ${n} entries but the model has ${C} channels` });
    };
    same(['normalization', 'mean'], m.normalization.mean.length, 'normalization.mean');
    same(['normalization', 'std'], m.normalization.std.length, 'normalization.std');
    same(['score', 'center'], m.score.center.length, 'score.center');
    same(['score', 'scale'], m.score.scale.length, 'score.scale');
    same(['architecture', 'inChannels'], m.architecture.inChannels, 'architecture.inChannels');
    same(['architecture', 'outChannels'], m.architecture.outChannels, 'architecture.outChannels');
    if (new Set(m.channels).size !== C) ctx.addIssue({ code: 'custom', path: ['channels'], message: 'channel names must be unique' });
    const h = m.architecture.hiddenChannels;
    if (Array.isArray(h) && h.length !== m.architecture.dilations.length) {
      ctx.addIssue({ code: 'custom', path: ['architecture', 'hiddenChannels'], message: `lists ${h.length} widths for ${m.architecture.dilations.length} blocks` });
    }
    const rf = 1 + m.architecture.dilations.reduce((s, d) => s + 2 * (m.architecture.kernelSize - 1) * d, 0);
    if (rf !== m.receptiveField) ctx.addIssue({ code: 'custom', path: ['receptiveField'], message: `is ${m.receptiveField} but the architecture gives ${rf}` });
  });

/** A validated model.json. */
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** One problem found in a model file: where, and what is wrong. */
export interface ModelFileIssue {
  /** Dotted path of the field, e.g. `architecture.dilations.2`. */
  readonly path: string;
  readonly message: string;
}

/** A model file that cannot be used; `issues` lists every problem found. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ModelFileIssue[],
  ) {
    super(`${file}: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`);
    this.name = 'ModelFileError';
  }
}

/**
 * Parses and validates model.json text.
 * @param file names the file in errors.
 * @throws ModelFileError naming the file and each bad field, including the version when it is not
 *   {@link MODEL_FORMAT_VERSION}.
 */
export function parseModelManifest(text: string, file: string): ModelManifest {
  if (text.length > MAX_MANIFEST_BYTES) throw new ModelFileError(file, [{ path: '', message: `is ${text.length} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have` }]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, [{ path: '', message: `is not valid JSON (${(e as Error).message})` }]);
  }
  if (typeof json === 'object' && json !== null && 'formatVersion' in json && json.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ModelFileError(file, [
      { path: 'formatVersion', message: `is ${JSON.stringify(json.formatVersion)}; this convwatch reads version ${MODEL_FORMAT_VERSION}` },
    ]);
  }
  const r = modelManifestSchema.safeParse(json);
  if (!r.success) {
    throw new ModelFileError(
      file,
      r.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return r.data;
}
