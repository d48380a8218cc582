import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('public entry', () => {
  it('lists the runtime, model and service exports the README and issues name', () => {
    for (const name of ['conv1d', 'Conv1d', 'StreamingConv1d', 'Tcn', 'TcnStream', 'TcnBatchStream', 'loadModel', 'Detector', 'fitDetector', 'trainTcn', 'simulate', 'loadConfig', 'createPipeline', 'evaluate']) {
      expect(api, name).toHaveProperty(name);
    }
  });

  it('the README example runs as written', () => {
    const x = api.tensor([2, 3, 4], Float32Array.from({ length: 24 }, (_, i) => i));
    const layer = new api.Conv1d({ inChannels: 3, outChannels: 2, kernelSize: 2, padding: 1, paddingMode: 'reflect' }, new api.Rng(0));
    expect(layer.forward(x).shape).toEqual([2, 2, 5]);
    const stream = new api.StreamingConv1d({ weight: layer.weight, bias: layer.bias, dilation: 2 });
    expect(stream.push(api.tensor([1, 3, 1], [0.1, 0.2, 0.3])).shape).toEqual([1, 2, 1]);
    const tcn = api.Tcn.create({ inChannels: 8, outChannels: 8, hiddenChannels: 32, kernelSize: 3, dilations: [1, 2, 4, 8, 16] }, new api.Rng(1));
    expect(tcn.receptiveField).toBe(125);
  });
});
