import type { ModelManifest } from '../model/model-manifest.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../model/model-manifest.js';
import type { Normalization } from '../model/normalization.js';
import { DEFAULT_FORECAST_KIND, type ForecastKind } from '../model/forecaster.js';
import type { Tcn } from '../nn/tcn.js';
import type { Calibration } from './calibrate.js';
import type { EventPolicy } from './detector.js';

/** What a new model's manifest records about how it was trained. */
export type TrainingRecord = ModelManifest['training'];

/**
 * Assembles the manifest of a freshly trained model (everything but the weights' hash, which
 * the writer adds). Arrays are copied into plain JSON numbers.
 */
export function manifestOf(parts: {
  name: string;
  createdAt: string;
  channels: readonly string[];
  normalization: Normalization;
  tcn: Tcn;
  /** What the TCN's output stands for; recorded as `architecture.forecast`. Default `'level'`. */
  forecast?: ForecastKind;
  calibration: Calibration;
  events: EventPolicy;
  training: TrainingRecord;
}): Omit<ModelManifest, 'weights'> {
  const a = parts.tcn.architecture;
  const t = parts.calibration.threshold;
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    name: parts.name,
    createdAt: parts.createdAt,
    channels: [...parts.channels],
    normalization: { mean: Array.from(parts.normalization.mean), std: Array.from(parts.normalization.std) },
    architecture: {
      kind: 'tcn-forecaster',
      inChannels: a.inChannels,
      outChannels: a.outChannels,
      hiddenChannels: a.blockChannels.every((c) => c === a.blockChannels[0]) ? (a.blockChannels[0] as number) : [...a.blockChannels],
      kernelSize: a.kernelSize,
      dilations: [...a.dilations],
      activation: { ...a.activation },
      forecast: parts.forecast ?? DEFAULT_FORECAST_KIND,
    },
    receptiveField: parts.tcn.receptiveField,
    score: { method: 'mean-z2', center: Array.from(parts.calibration.residualStats.center), scale: Array.from(parts.calibration.residualStats.scale) },
    threshold: { method: t.method, value: t.value, params: { ...t.params } },
    events: { openAfter: parts.events.openAfter, closeAfter: parts.events.closeAfter },
    training: parts.training,
  };
}
