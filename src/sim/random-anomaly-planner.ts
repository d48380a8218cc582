import type { Rng } from '../nn/random.js';
import { ANOMALY_KIND_DEFAULTS, incompatibility, type AnomalyKind, type AnomalySpec } from './anomaly-kinds.js';
import type { ChannelSpec } from './channel-spec.js';

/** Settings of a {@link RandomAnomalyPlanner}; see `RandomAnomalyOptions` for their meaning. */
export interface RandomAnomalyPlan {
  readonly cleanPrefixRows: number;
  readonly meanGapRows: number;
  readonly minGapRows: number;
  /** Non-empty; each kind must fit at least one channel. */
  readonly kinds: readonly AnomalyKind[];
}

/**
 * Places one device's anomalies one after the other, for ever: the first starts at
 * `cleanPrefixRows` plus a random gap, each next one a random gap (uniform integer with mean
 * `meanGapRows`, at least `minGapRows`) after the previous one ends. Kinds follow `kinds` in
 * order, starting at a random point of the cycle; lengths, magnitudes (and their signs) and
 * affected channels are drawn from {@link ANOMALY_KIND_DEFAULTS}. Segments never overlap, so
 * the plan of the first N rows does not depend on how many rows follow.
 */
export class RandomAnomalyPlanner {
  private readonly compatible: ReadonlyMap<AnomalyKind, readonly number[]>;
  private readonly gapSpan: number;
  private readonly cycleOffset: number;
  private count = 0;
  private nextEarliestRow: number;

  /**
   * @param rng consumed only by this planner.
   * @throws Error when a kind fits none of the channels.
   */
  constructor(
    private readonly rng: Rng,
    private readonly plan: RandomAnomalyPlan,
    private readonly deviceId: string,
    private readonly channels: readonly ChannelSpec[],
  ) {
    const compatible = new Map<AnomalyKind, number[]>();
    for (const kind of plan.kinds) {
      const fit = channels.flatMap((c, i) => (incompatibility(kind, c) === null ? [i] : []));
      if (fit.length === 0) throw new Error(`random anomaly kind ${kind} fits none of the channels`);
      compatible.set(kind, fit);
    }
    this.compatible = compatible;
    this.gapSpan = Math.round(2 * (plan.meanGapRows - plan.minGapRows));
    this.cycleOffset = rng.int(plan.kinds.length);
    // The first anomaly comes a jittered gap after the clean prefix, not a full gap.
    this.nextEarliestRow = plan.cleanPrefixRows - plan.minGapRows;
  }

  /** The next anomaly of the device (start rows strictly increasing). */
  next(): AnomalySpec {
    const rng = this.rng;
    const kinds = this.plan.kinds;
    const kind = kinds[(this.cycleOffset + this.count) % kinds.length] as AnomalyKind;
    const defaults = ANOMALY_KIND_DEFAULTS[kind];
    const startRow = this.nextEarliestRow + this.plan.minGapRows + rng.int(this.gapSpan + 1);
    const [minLength, maxLength] = defaults.lengthRows;
    const lengthRows = minLength + rng.int(maxLength - minLength + 1);
    const [lo, hi] = defaults.magnitudeRange;
    let magnitude = rng.uniformRange(lo, hi);
    const flip = rng.uniform() < 0.5;
    if (flip && (kind === 'spike' || kind === 'level-shift')) magnitude = -magnitude;
    if (flip && kind === 'frequency') magnitude = 1 / magnitude;
    const fit = [...(this.compatible.get(kind) ?? [])];
    const howMany = 1 + rng.int(Math.min(defaults.maxChannels, fit.length));
    // Partial Fisher–Yates: the first `howMany` entries become a uniform random subset.
    for (let i = 0; i < howMany; i++) {
      const j = i + rng.int(fit.length - i);
      [fit[i], fit[j]] = [fit[j] as number, fit[i] as number];
    }
    const chosen = fit.slice(0, howMany).sort((a, b) => a - b);
    this.count++;
    this.nextEarliestRow = startRow + lengthRows;
    return {
      kind,
      device: this.deviceId,
      channels: chosen.map((i) => (this.channels[i] as ChannelSpec).name),
      startRow,
      lengthRows,
      magnitude,
    };
  }
}
