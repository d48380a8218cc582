import { planConv1d, type Conv1dOptions } from './conv1d-options.js';
import { paddedSourceIndex } from './padding.js';
import type { Tensor } from './tensor.js';

/**
 * Direct-loop conv1d, written for obviousness rather than speed: the oracle the fast paths are
 * tested against. Same contract and errors as {@link conv1d}.
 */
export function conv1dReference(input: Tensor, weight: Tensor, bias: Tensor | null, options: Conv1dOptions = {}): Tensor {
  const p = planConv1d(input, weight, bias, options);
  const cinG = p.inChannels / p.groups;
  const coutG = p.outChannels / p.groups;
  const out = new Float32Array(p.batch * p.outChannels * p.outLength);
  for (let n = 0; n < p.batch; n++) {
    for (let co = 0; co < p.outChannels; co++) {
      const g = Math.floor(co / coutG);
      for (let t = 0; t < p.outLength; t++) {
        let acc = 0;
        for (let ci = 0; ci < cinG; ci++) {
          const c = g * cinG + ci;
          for (let k = 0; k < p.kernelSize; k++) {
            const src = paddedSourceIndex(t * p.stride + k * p.dilation, p.padLeft, p.length, p.paddingMode);
            if (src < 0) continue;
            acc += weight.data[(co * cinG + ci) * p.kernelSize + k] * input.data[(n * p.inChannels + c) * p.length + src];
          }
        }
        if (bias !== null) acc += bias.data[co];
        out[(n * p.outChannels + co) * p.outLength + t] = acc;
      }
    }
  }
  const shape = p.unbatched ? [p.outChannels, p.outLength] : [p.batch, p.outChannels, p.outLength];
  return { shape, data: out };
}
