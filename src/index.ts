/**
 * convwatch public API. Everything a user may import is listed here explicitly; anything not
 * exported from this file is internal and may change without notice.
 */

// Tensors and seeded randomness.
export { tensor, zeros, numel, formatShape, type Tensor } from './nn/tensor.js';
export { Rng } from './nn/random.js';

// Convolution with torch.nn.Conv1d semantics.
export { conv1d } from './nn/conv1d.js';
export { conv1dReference } from './nn/conv1d-reference.js';
export { causalConv1d, type CausalConv1dOptions } from './nn/causal-conv1d.js';
export { CONV1D_DEFAULTS, planConv1d, type Conv1dOptions, type Conv1dPlan, type Padding, type PaddingMode } from './nn/conv1d-options.js';
export { Conv1d, type Conv1dLayerOptions } from './nn/conv1d-layer.js';
export { StreamingConv1d, type StreamingConv1dOptions, type StreamingConv1dSnapshot } from './nn/streaming-conv1d.js';

// Activations and the residual TCN container.
export { createActivation, ACTIVATION_NAMES, type Activation, type ActivationName, type ActivationSpec } from './nn/activations.js';
export { Tcn, TCN_LIMITS, resolveTcnConfig, receptiveFieldOf, type TcnArchitecture, type TcnBlock, type TcnConfig } from './nn/tcn.js';
export { TcnBatchStream, TcnStream, type TcnStreamSnapshot } from './nn/tcn-stream.js';

// Matrix kernels behind every convolution.
export { jsGemmKernel, type GemmKernel, type PackedMatrix } from './nn/gemm.js';

// Model weights in safetensors format (PyTorch state_dict names).
export { parseSafetensors, serializeSafetensors, type SafetensorsContents } from './model/safetensors.js';
export { readSafetensorsFile, writeSafetensorsFile } from './io/safetensors-file.js';
export { SafetensorsError } from './model/safetensors-error.js';

// Faster kernels (WebAssembly SIMD, built from source) and the fused streaming engine.
export { createWasmGemmKernel, defaultGemmKernel, wasmSimdAvailable } from './nn/wasm-gemm.js';
export { WasmTcnBatchStream, wasmTcnUnsupportedReason } from './nn/wasm-tcn-stream.js';

// Training.
export { conv1dBackward } from './nn/conv1d-backward.js';
export { trainTcn, TRAIN_TCN_DEFAULTS, type TrainTcnOptions, type TrainTcnResult, type TrainEpochReport } from './model/train-tcn.js';
export { Adam } from './model/adam.js';

// Models: forecaster, model files, detector.
export { Forecaster, ForecastBatch } from './model/forecaster.js';
export { fitNormalization, type Normalization } from './model/normalization.js';
export { parseModelManifest, ModelFileError, MODEL_FORMAT_VERSION, type ModelManifest } from './model/model-manifest.js';
export { loadModel, tryLoadModel, saveModel } from './io/model-dir.js';
export { Detector, DetectorBatch, DetectorStream, detectorFromManifest, type ScoredReading, type DetectorSnapshot } from './detect/detector.js';
export { fitDetector, type FitDetectorOptions, type FittedDetector } from './detect/fit-detector.js';
export { calibrate, type Calibration, type CalibrationMethod } from './detect/calibrate.js';

// Scoring, thresholds, events and evaluation metrics.
export { fitResidualStats, scoreReading, type ResidualStats } from './detect/residual-scorer.js';
export { calibrateThreshold, type ThresholdCalibration, type ThresholdOptions } from './detect/threshold.js';
export { Hysteresis, type AnomalyEvent } from './detect/hysteresis.js';
export { pointMetrics } from './detect/point-metrics.js';
export { eventMetrics } from './detect/event-metrics.js';
export { nabFileScore } from './detect/nab-score.js';
export { nabCorpusScore } from './detect/nab-corpus-score.js';
export { NAB_PROFILES } from './detect/nab-profiles.js';
export { evaluate, type Evaluation } from './detect/evaluate.js';

// Data in and out.
export { parseCsvTable, readCsvTable, type CsvTable } from './io/csv-table.js';
export { CsvWriter } from './io/csv-writer.js';
export { renderEvalReport } from './io/html-report.js';

// Simulator.
export { simulate, createSimulator, type SimulatedRecording } from './sim/sensor-simulator.js';

// Live service.
export { loadConfig, tryLoadConfig, parseConfig } from './config/load-config.js';
export { createPipeline, type Pipeline } from './stream/pipeline.js';
