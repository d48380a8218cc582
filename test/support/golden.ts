/**
 * Loaders for the PyTorch golden vectors in test/fixtures/ (written by scripts/golden/*.py) and a
 * tolerance comparison with readable failures. Tensors in the JSON files are
 * `{ shape, data: base64 of little-endian float32 }`; these loaders validate the JSON and decode
 * each tensor into a {@link Tensor}.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { tensor, type Tensor } from '../../src/nn/tensor.js';

/** nn.Conv1d padding modes as written in the fixtures. */
export type GoldenPaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Conv1d options of one golden case, every field present (PyTorch's values, not defaults). */
export interface GoldenConv1dOptions {
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';
  readonly dilation: number;
  readonly groups: number;
  readonly paddingMode: GoldenPaddingMode;
}

/** Provenance written at the top of every fixture file. */
export interface GoldenHeader {
  /** Repo-relative path of the script that wrote the file. */
  readonly generator: string;
  /** `torch.__version__` of the generating torch. */
  readonly torch: string;
  /** Debian package and version of that torch, when the generator could read it. */
  readonly torchPackage?: string;
}

/** One forward case: `output = conv1d(input, weight, bias, options)` in PyTorch. */
export interface Conv1dForwardCase {
  readonly name: string;
  /** `[N, Cin, L]`. */
  readonly input: Tensor;
  /** `[Cout, Cin/groups, K]`. */
  readonly weight: Tensor;
  /** `[Cout]` or null. */
  readonly bias: Tensor | null;
  readonly options: GoldenConv1dOptions;
  /** `[N, Cout, Lout]`. */
  readonly output: Tensor;
}

/** One backward case: autograd gradients of `sum(gradOutput · conv1d(...))`. */
export interface Conv1dBackwardCase extends Conv1dForwardCase {
  /** Same shape as `output`. */
  readonly gradOutput: Tensor;
  /** Same shape as `input`. */
  readonly gradInput: Tensor;
  /** Same shape as `weight`. */
  readonly gradWeight: Tensor;
  /** Same shape as `bias`; null when the case has no bias. */
  readonly gradBias: Tensor | null;
}

/**
 * Options of an error case. Unlike {@link GoldenConv1dOptions} they may hold what conv1d must
 * reject: fractional or non-positive numbers, unknown padding strings and padding modes.
 */
export interface Conv1dErrorOptions {
  readonly stride: number;
  readonly padding: number | string;
  readonly dilation: number;
  readonly groups: number;
  readonly paddingMode: string;
}

/** A combination torch 1.13 rejects, with torch's message. */
export interface Conv1dErrorCase {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly weightShape: readonly number[];
  readonly biasShape: readonly number[] | null;
  readonly options: Conv1dErrorOptions;
  /** Which torch entry point produced the message: the functional op or the module. */
  readonly call: 'F.conv1d' | 'nn.Conv1d';
  /** Python exception class: RuntimeError, ValueError or TypeError. */
  readonly torchErrorType: string;
  readonly torchError: string;
  /** Why a case is odd, when it is (e.g. torch rejects with an internal message). */
  readonly note?: string;
}

/** A fixture file: provenance and cases. */
export interface GoldenFile<Case> extends GoldenHeader {
  readonly cases: readonly Case[];
}

/** Architecture of a reference TCN (scripts/golden/tcn_reference.py), as in bench/models/*.json. */
export interface TcnGoldenArchitecture {
  readonly format: 'convwatch-tcn';
  readonly formatVersion: number;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly hidden: number;
  readonly kernelSize: number;
  readonly dilations: readonly number[];
  /** `'gelu'` is the exact (erf) GELU, torch's default. */
  readonly activation: 'relu' | 'gelu';
  /** `1 + Σ 2(K−1)d` over the blocks. */
  readonly receptiveField: number;
  /** torch.manual_seed used before building the model (default initialisation). */
  readonly seed: number;
}

/** PyTorch's output of a reference TCN on a seeded input, with the weights it used. */
export interface TcnGolden extends GoldenHeader {
  readonly architecture: TcnGoldenArchitecture;
  /** The same weights as a safetensors file (state_dict names), for model-loader tests. */
  readonly safetensorsUrl: URL;
  /** state_dict in PyTorch's order: `blocks.0.conv1.weight`, …, `head.bias`. */
  readonly stateDict: ReadonlyMap<string, Tensor>;
  /** `[1, inChannels, T]`. */
  readonly input: Tensor;
  /** `[1, outChannels, T]`: the offline (whole-window, causal) forward pass. */
  readonly output: Tensor;
}

const tensorJson = z.object({
  shape: z.array(z.number().int().nonnegative()),
  data: z.string(),
});
type TensorJson = z.infer<typeof tensorJson>;

const headerJson = {
  generator: z.string(),
  torch: z.string(),
  torchPackage: z.string().optional(),
};

const optionsJson = z.object({
  stride: z.number().int(),
  padding: z.union([z.number().int(), z.literal('same'), z.literal('valid')]),
  dilation: z.number().int(),
  groups: z.number().int(),
  paddingMode: z.enum(['zeros', 'reflect', 'replicate', 'circular']),
});

const forwardCaseJson = z.object({
  name: z.string(),
  input: tensorJson,
  weight: tensorJson,
  bias: tensorJson.nullable(),
  options: optionsJson,
  output: tensorJson,
});

const backwardCaseJson = forwardCaseJson.extend({
  gradOutput: tensorJson,
  gradInput: tensorJson,
  gradWeight: tensorJson,
  gradBias: tensorJson.nullable(),
});

const errorCaseJson = z.object({
  name: z.string(),
  inputShape: z.array(z.number().int()),
  weightShape: z.array(z.number().int()),
  biasShape: z.array(z.number().int()).nullable(),
  options: z.object({
    stride: z.number(),
    padding: z.union([z.number(), z.string()]),
    dilation: z.number(),
    groups: z.number(),
    paddingMode: z.string(),
  }),
  call: z.enum(['F.conv1d', 'nn.Conv1d']),
  torchErrorType: z.string(),
  torchError: z.string(),
  note: z.string().optional(),
});

const tcnGoldenJson = z.object({
  ...headerJson,
  architecture: z.object({
    format: z.literal('convwatch-tcn'),
    formatVersion: z.number().int(),
    name: z.string(),
    inChannels: z.number().int().positive(),
    outChannels: z.number().int().positive(),
    hidden: z.number().int().positive(),
    kernelSize: z.number().int().positive(),
    dilations: z.array(z.number().int().positive()),
    activation: z.enum(['relu', 'gelu']),
    receptiveField: z.number().int().positive(),
    seed: z.number().int(),
  }),
  safetensors: z.string(),
  stateDict: z.record(z.string(), tensorJson),
  input: tensorJson,
  output: tensorJson,
});

/** Repository root, from this file's place in test/support/. */
const REPO_ROOT = new URL('../../', import.meta.url);

function readJson(relativeToSupport: string): { url: URL; json: unknown } {
  const url = new URL(relativeToSupport, import.meta.url);
  return { url, json: JSON.parse(readFileSync(url, 'utf8')) as unknown };
}

function parseWith<T>(schema: z.ZodType<T>, json: unknown, url: URL): T {
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new Error(`golden fixture ${url.pathname} does not match its format: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/**
 * Decodes a fixture tensor: base64 → little-endian float32 (read with a DataView, so the host's
 * byte order does not matter).
 * @throws Error when the byte count does not match the shape.
 */
export function decodeGoldenTensor(json: TensorJson, where: string): Tensor {
  const bytes = Buffer.from(json.data, 'base64');
  const n = json.shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== 4 * n) {
    throw new Error(`${where}: ${bytes.byteLength} bytes of data for shape [${json.shape.join(', ')}] (needs ${4 * n})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
  return tensor(json.shape, data);
}

function decodeOptional(json: TensorJson | null, where: string): Tensor | null {
  return json === null ? null : decodeGoldenTensor(json, where);
}

function decodeForward(c: z.infer<typeof forwardCaseJson>, file: string): Conv1dForwardCase {
  const at = (field: string): string => `${file} case ${c.name} ${field}`;
  return {
    name: c.name,
    input: decodeGoldenTensor(c.input, at('input')),
    weight: decodeGoldenTensor(c.weight, at('weight')),
    bias: decodeOptional(c.bias, at('bias')),
    options: c.options,
    output: decodeGoldenTensor(c.output, at('output')),
  };
}

/**
 * test/fixtures/conv1d/forward.json: PyTorch Conv1d forward cases.
 * @throws Error if the file is missing or malformed.
 */
export function loadConv1dForward(): GoldenFile<Conv1dForwardCase> {
  const { url, json } = readJson('../fixtures/conv1d/forward.json');
  const doc = parseWith(z.object({ ...headerJson, cases: z.array(forwardCaseJson) }), json, url);
  return { ...header(doc), cases: doc.cases.map((c) => decodeForward(c, 'forward.json')) };
}

/**
 * test/fixtures/conv1d/backward.json: forward cases plus autograd gradients.
 * @throws Error if the file is missing or malformed.
 */
export function loadConv1dBackward(): GoldenFile<Conv1dBackwardCase> {
  const { url, json } = readJson('../fixtures/conv1d/backward.json');
  const doc = parseWith(z.object({ ...headerJson, cases: z.array(backwardCaseJson) }), json, url);
  return {
    ...header(doc),
    cases: doc.cases.map((c) => {
      const at = (field: string): string => `backward.json case ${c.name} ${field}`;
      return {
        ...decodeForward(c, 'backward.json'),
        gradOutput: decodeGoldenTensor(c.gradOutput, at('gradOutput')),
        gradInput: decodeGoldenTensor(c.gradInput, at('gradInput')),
        gradWeight: decodeGoldenTensor(c.gradWeight, at('gradWeight')),
        gradBias: decodeOptional(c.gradBias, at('gradBias')),
      };
    }),
  };
}

/**
 * test/fixtures/conv1d/errors.json: argument combinations torch rejects, with its messages.
 * @throws Error if the file is missing or malformed.
 */
export function loadConv1dErrors(): GoldenFile<Conv1dErrorCase> {
  const { url, json } = readJson('../fixtures/conv1d/errors.json');
  const doc = parseWith(z.object({ ...headerJson, cases: z.array(errorCaseJson) }), json, url);
  return { ...header(doc), cases: doc.cases };
}

/**
 * test/fixtures/tcn/<name>.golden.json: a reference TCN's weights, a seeded input and PyTorch's
 * output. Available: `tcn-s` (weights in bench/models/) and `tcn-tiny-gelu` (test/fixtures/tcn/).
 * @throws Error if there is no such golden or it is malformed.
 */
export function loadTcnGolden(name: string): TcnGolden {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`loadTcnGolden: bad model name ${JSON.stringify(name)}`);
  const file = `${name}.golden.json`;
  const { url, json } = readJson(`../fixtures/tcn/${file}`);
  const doc = parseWith(tcnGoldenJson, json, url);
  const stateDict = new Map<string, Tensor>();
  for (const [key, value] of Object.entries(doc.stateDict)) {
    stateDict.set(key, decodeGoldenTensor(value, `${file} stateDict ${key}`));
  }
  return {
    ...header(doc),
    architecture: doc.architecture,
    safetensorsUrl: new URL(doc.safetensors, REPO_ROOT),
    stateDict,
    input: decodeGoldenTensor(doc.input, `${file} input`),
    output: decodeGoldenTensor(doc.output, `${file} output`),
  };
}

function header(doc: { generator: string; torch: string; torchPackage?: string | undefined }): GoldenHeader {
  return doc.torchPackage === undefined
    ? { generator: doc.generator, torch: doc.torch }
    : { generator: doc.generator, torch: doc.torch, torchPackage: doc.torchPackage };
}

/**
 * Asserts `|actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|` for every i (NaN only matches
 * NaN, ±Infinity only itself).
 * @throws Error naming the first failing index, its values, how many fail and the largest error.
 */
export function expectClose(
  actual: Float32Array,
  expected: Float32Array,
  atol = 1e-5,
  rtol = 1e-5,
  label = 'values',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  let failures = 0;
  let first = -1;
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    let ok: boolean;
    let err: number;
    if (Number.isNaN(e) || Number.isNaN(a) || !Number.isFinite(e) || !Number.isFinite(a)) {
      ok = Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
      err = ok ? 0 : Infinity;
    } else {
      err = Math.abs(a - e);
      ok = err <= atol + rtol * Math.abs(e);
    }
    if (err > maxErr || (maxAt < 0 && !ok)) {
      maxErr = err;
      maxAt = i;
    }
    if (!ok) {
      failures++;
      if (first < 0) first = i;
    }
  }
  if (failures > 0) {
    throw new Error(
      `${label}: ${failures} of ${actual.length} elements differ beyond atol ${atol} + rtol ${rtol}·|expected|; ` +
        `first at index ${first}: actual ${actual[first]}, expected ${expected[first]}; ` +
        `max |error| ${maxErr} at index ${maxAt} (actual ${actual[maxAt]}, expected ${expected[maxAt]})`,
    );
  }
}
