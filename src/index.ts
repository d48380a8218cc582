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
