// Plain reference statistics for the simulator tests, written independently of src/sim.

/** Column `c` of a row-major [rows, C] array, rows [from, to). */
export function column(values: Float32Array, channelCount: number, c: number, from = 0, to = values.length / channelCount): number[] {
  const out: number[] = [];
  for (let r = from; r < to; r++) out.push(values[r * channelCount + c] as number);
  return out;
}

export function mean(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** Population standard deviation. */
export function std(x: readonly number[]): number {
  const m = mean(x);
  let s = 0;
  for (const v of x) s += (v - m) * (v - m);
  return Math.sqrt(s / x.length);
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Second differences x[i−1] − 2x[i] + x[i+1]: white noise passes, smooth signals nearly vanish. */
export function secondDifferences(x: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i + 1 < x.length; i++) out.push((x[i - 1] as number) - 2 * (x[i] as number) + (x[i + 1] as number));
  return out;
}

/**
 * The period (in samples) in [minPeriod, maxPeriod] with the largest Fourier magnitude of the
 * linearly detrended series, searched on a grid of frequencies 0.1 periods apart.
 */
export function dominantPeriod(x: readonly number[], minPeriod: number, maxPeriod: number): number {
  const n = x.length;
  const tMean = (n - 1) / 2;
  const xMean = mean(x);
  let stx = 0;
  let stt = 0;
  for (let i = 0; i < n; i++) {
    stx += (i - tMean) * ((x[i] as number) - xMean);
    stt += (i - tMean) * (i - tMean);
  }
  const slope = stx / stt;
  const detrended = x.map((v, i) => v - xMean - slope * (i - tMean));
  let best = minPeriod;
  let bestPower = -1;
  for (let period = minPeriod; period <= maxPeriod; period += 0.1) {
    const w = (2 * Math.PI) / period;
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      re += (detrended[i] as number) * Math.cos(w * i);
      im += (detrended[i] as number) * Math.sin(w * i);
    }
    const power = re * re + im * im;
    if (power > bestPower) {
      bestPower = power;
      best = period;
    }
  }
  return best;
}
