import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile } from '../../src/io/safetensors-file.js';
import { Tcn, type TcnConfig } from '../../src/nn/tcn.js';
import { tensor } from '../../src/nn/tensor.js';
import { expectClose, loadTcnGolden, type TcnGolden } from '../support/golden.js';
import { concatColumns, expectBitwiseEqual, sliceColumns } from '../support/random-tensor.js';

function configOf(g: TcnGolden): TcnConfig {
  const a = g.architecture;
  return { inChannels: a.inChannels, outChannels: a.outChannels, hiddenChannels: a.hidden, kernelSize: a.kernelSize, dilations: a.dilations, activation: a.activation };
}

describe.each(['tcn-s', 'tcn-tiny-gelu'])('%s against PyTorch (scripts/golden/tcn_reference.py)', (name) => {
  const golden = loadTcnGolden(name);

  it('has the receptive field PyTorch reports', () => {
    const tcn = Tcn.fromStateDict(configOf(golden), golden.stateDict);
    expect(tcn.receptiveField).toBe(golden.architecture.receptiveField);
  });

  it('offline forward gives PyTorch output (atol 1e-5, rtol 1e-5)', () => {
    const tcn = Tcn.fromStateDict(configOf(golden), golden.stateDict);
    const y = tcn.forward(golden.input);
    expect(y.shape).toEqual(golden.output.shape);
    expectClose(y.data, golden.output.data, 1e-5, 1e-5, name);
  });

  it('streaming one reading at a time gives the same output as offline, bit for bit', () => {
    const tcn = Tcn.fromStateDict(configOf(golden), golden.stateDict);
    const offline = tcn.forward(golden.input);
    const stream = tcn.createStream();
    const length = golden.input.shape[2] as number;
    const parts = [];
    for (let t = 0; t < length; t++) parts.push(stream.push(sliceColumns(golden.input, t, t + 1)));
    expectBitwiseEqual(concatColumns(parts, golden.architecture.outChannels).data, offline.data);
  });

  it('loads from the PyTorch-written safetensors file with the same result', async () => {
    const { tensors } = await readSafetensorsFile(fileURLToPath(golden.safetensorsUrl));
    const tcn = Tcn.fromStateDict(configOf(golden), tensors);
    expectClose(tcn.forward(golden.input).data, golden.output.data, 1e-5, 1e-5, name);
  });
});

describe('conv1d edge cases PyTorch accepts', () => {
  it('an empty batch gives an empty output of the right shape', async () => {
    const { conv1d } = await import('../../src/nn/conv1d.js');
    const y = conv1d(tensor([0, 4, 5]), tensor([2, 4, 3]), tensor([2]), { padding: 1 });
    expect(y.shape).toEqual([0, 2, 5]);
    expect(y.data.length).toBe(0);
  });
});
