/** How {@link Adam} applies weight decay. */
export type WeightDecayMode =
  /** AdamW (Loshchilov & Hutter): `θ ← θ·(1 − lr·wd)` before the Adam step, independent of the gradient scale. */
  | 'decoupled'
  /** Classic L2: `g ← g + wd·θ` before the moments (torch.optim.Adam's `weight_decay`). */
  | 'l2';

/** Options of {@link Adam}. Defaults are torch.optim.Adam's, with no decay and no clipping. */
export interface AdamOptions {
  /** Step size, ≥ 0. Default 1e-3. */
  learningRate?: number;
  /** Decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to √v̂, > 0. Default 1e-8. */
  epsilon?: number;
  /** Weight decay factor, ≥ 0. Default 0. */
  weightDecay?: number;
  /** Default `'decoupled'`. */
  weightDecayMode?: WeightDecayMode;
  /**
   * Global-norm gradient clipping: when the L2 norm of all gradients together exceeds this, they
   * are scaled by `clipNorm / (norm + 1e-6)` (as torch.nn.utils.clip_grad_norm_). `null` = off
   * (default).
   */
  clipNorm?: number | null;
}

/** Default option values. */
export const ADAM_DEFAULTS = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  weightDecayMode: 'decoupled',
  clipNorm: null,
} as const satisfies Required<AdamOptions>;

/** Serialisable optimizer state (plain JSON: numbers round-trip exactly). */
export interface AdamState {
  /** Steps taken so far. */
  readonly step: number;
  /** First and second moments per parameter name, as float64 numbers. */
  readonly moments: Readonly<Record<string, { readonly m: readonly number[]; readonly v: readonly number[] }>>;
}

/** What one {@link Adam.step} saw. */
export interface AdamStepReport {
  /** L2 norm of all gradients together, before clipping. */
  readonly gradNorm: number;
  /** Factor the gradients were multiplied by (1 when not clipped). */
  readonly clipScale: number;
}

interface Slot {
  readonly name: string;
  readonly param: Float32Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
}

function checkNumber(name: string, v: unknown, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`Adam: ${name} must be ${expected}, got ${String(v)}`);
  return v;
}

/**
 * Adam (Kingma & Ba) over named float32 parameters, updated in place, with torch.optim.Adam's
 * update rule (bias-corrected moments, `θ ← θ − lr·m̂/(√v̂ + ε)`), optional weight decay and
 * optional global-norm clipping. Moments are kept in float64.
 */
export class Adam {
  readonly options: Readonly<Required<AdamOptions>>;
  private readonly slots: Slot[];
  private steps = 0;

  /**
   * @param params the live parameter arrays by name (e.g. the `data` of `tcn.stateDict()`); the
   *   optimizer writes into them.
   * @throws Error naming an option outside its range.
   */
  constructor(params: ReadonlyMap<string, Float32Array>, options: AdamOptions = {}) {
    const o = { ...ADAM_DEFAULTS, ...options };
    checkNumber('learningRate', o.learningRate, (x) => x >= 0, 'a finite number ≥ 0');
    checkNumber('beta1', o.beta1, (x) => x >= 0 && x < 1, 'in [0, 1)');
    checkNumber('beta2', o.beta2, (x) => x >= 0 && x < 1, 'in [0, 1)');
    checkNumber('epsilon', o.epsilon, (x) => x > 0, 'a finite number > 0');
    checkNumber('weightDecay', o.weightDecay, (x) => x >= 0, 'a finite number ≥ 0');
    if (o.weightDecayMode !== 'decoupled' && o.weightDecayMode !== 'l2') {
      throw new Error(`Adam: weightDecayMode must be 'decoupled' or 'l2', got '${String(o.weightDecayMode)}'`);
    }
    if (o.clipNorm !== null) checkNumber('clipNorm', o.clipNorm, (x) => x > 0, 'a finite number > 0 or null');
    this.options = o;
    this.slots = [...params].map(([name, param]) => ({ name, param, m: new Float64Array(param.length), v: new Float64Array(param.length) }));
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * One update of every parameter from `grads` (same names and sizes as the parameters; the
   * arrays are not modified).
   * @throws Error for a missing or mis-sized gradient, or a non-finite gradient norm (the
   *   parameters are then left unchanged).
   */
  step(grads: ReadonlyMap<string, Float32Array>): AdamStepReport {
    let sumSq = 0;
    for (const s of this.slots) {
      const g = grads.get(s.name);
      if (g === undefined || g.length !== s.param.length) {
        throw new Error(`Adam: gradient '${s.name}' must have ${s.param.length} values, got ${g === undefined ? 'none' : g.length}`);
      }
      for (let i = 0; i < g.length; i++) sumSq += g[i] * g[i];
    }
    const gradNorm = Math.sqrt(sumSq);
    if (!Number.isFinite(gradNorm)) {
      const bad = this.slots.find((s) => (grads.get(s.name) as Float32Array).some((v) => !Number.isFinite(v)));
      throw new Error(`Adam: gradient norm is ${gradNorm}${bad === undefined ? '' : ` (parameter '${bad.name}' has a non-finite gradient)`}; parameters left unchanged`);
    }
    const { learningRate: lr, beta1, beta2, epsilon, weightDecay: wd, weightDecayMode, clipNorm } = this.options;
    const clipScale = clipNorm !== null && gradNorm > clipNorm ? clipNorm / (gradNorm + 1e-6) : 1;
    this.steps++;
    const t = this.steps;
    const bc1 = 1 - beta1 ** t;
    const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
    const stepSize = lr / bc1;
    const decay = wd > 0 && weightDecayMode === 'decoupled' ? 1 - lr * wd : 1;
    const l2 = wd > 0 && weightDecayMode === 'l2' ? wd : 0;
    for (const s of this.slots) {
      const g = grads.get(s.name) as Float32Array;
      const { param, m, v } = s;
      for (let i = 0; i < param.length; i++) {
        const theta = param[i] * decay;
        const gi = g[i] * clipScale + l2 * param[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        param[i] = theta - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + epsilon);
      }
    }
    return { gradNorm, clipScale };
  }

  /** The moments and step count, as plain JSON-safe data (a copy). */
  state(): AdamState {
    const moments: Record<string, { m: number[]; v: number[] }> = {};
    for (const s of this.slots) moments[s.name] = { m: Array.from(s.m), v: Array.from(s.v) };
    return { step: this.steps, moments };
  }

  /**
   * Restores a {@link state} taken from an optimizer over parameters of the same names and sizes.
   * @throws Error naming a missing, extra or mis-sized entry, or a bad step count; nothing is
   *   changed then.
   */
  loadState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`Adam state: step must be a non-negative integer, got ${String(state.step)}`);
    const names = new Set(this.slots.map((s) => s.name));
    for (const k of Object.keys(state.moments)) if (!names.has(k)) throw new Error(`Adam state: unexpected parameter '${k}'`);
    for (const s of this.slots) {
      const e = state.moments[s.name];
      if (e === undefined) throw new Error(`Adam state: missing parameter '${s.name}'`);
      if (e.m.length !== s.param.length || e.v.length !== s.param.length) {
        throw new Error(`Adam state: '${s.name}' has ${e.m.length}/${e.v.length} moments, expected ${s.param.length}`);
      }
      if (!e.m.every(Number.isFinite) || !e.v.every((x) => Number.isFinite(x) && x >= 0)) {
        throw new Error(`Adam state: '${s.name}' has non-finite moments or a negative second moment`);
      }
    }
    for (const s of this.slots) {
      const e = state.moments[s.name] as { m: readonly number[]; v: readonly number[] };
      s.m.set(e.m);
      s.v.set(e.v);
    }
    this.steps = state.step;
  }
}
