/**
 * The classic multivariate statistical process monitoring baseline for Tennessee Eastman:
 * PCA fitted on normal data, Hotelling's T² in the principal subspace and the Q statistic
 * (squared prediction error) in the residual subspace (e.g. Chiang, Russell & Braatz, "Fault
 * Detection and Diagnosis in Industrial Systems", 2001). Control limits here are empirical
 * quantiles of the training statistics, i.e. fitted on normal data only, like convwatch's.
 */
import { quantileSorted, sortedCopy } from '../../src/detect/robust-stats.js';

/** A PCA model of normal data: standardisation, principal directions and their variances. */
export interface PcaMonitor {
  /** `[C]` training mean per channel, raw units. */
  readonly mean: Float64Array;
  /** `[C]` training standard deviation per channel (ddof 1; 1 for a constant channel), raw units. */
  readonly std: Float64Array;
  /** `[k, C]` loadings, one principal direction (unit vector in standardised space) per row. */
  readonly loadings: Float64Array;
  /** `[k]` variances of the kept components (eigenvalues of the correlation matrix), descending. */
  readonly eigenvalues: Float64Array;
  /** k, the number of kept components. */
  readonly components: number;
  /** C. */
  readonly channels: number;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations.
 * @param a `[n, n]` row-major symmetric matrix (only read).
 * @returns eigenvalues `[n]` descending, and `[n, n]` eigenvectors, row r the unit vector of value r.
 * @throws Error when `a` does not hold n·n entries.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new Error(`symmetricEigen: an ${n}×${n} matrix has ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  // Converged when the off-diagonal mass is negligible relative to the whole matrix (an absolute
  // bound would never be met by a matrix of large entries, nor mean much for a tiny one).
  let frobenius2 = 0;
  for (const x of m) frobenius2 += x * x;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (m[p * n + q] as number) ** 2;
    if (off <= 1e-30 * frobenius2) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * n + p] as number;
        const aqq = m[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p] as number;
          const akq = m[k * n + q] as number;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k] as number;
          const aqk = m[q * n + k] as number;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (m[j * n + j] as number) - (m[i * n + i] as number));
  const values = Float64Array.from(order, (i) => m[i * n + i] as number);
  const vectors = new Float64Array(n * n); // row r = eigenvector r
  order.forEach((col, r) => {
    for (let k = 0; k < n; k++) vectors[r * n + k] = v[k * n + col] as number;
  });
  return { values, vectors };
}

/**
 * Fits PCA on `[T, C]` normal data (each channel standardised with the training mean and std),
 * keeping the fewest components that explain at least `varianceKept` of the variance.
 * @param values `[T, C]` row-major raw readings.
 * @throws Error on ragged data, fewer than 2 rows, or `varianceKept` outside (0, 1).
 */
export function fitPcaMonitor(values: Float32Array, channels: number, varianceKept = 0.9): PcaMonitor {
  if (!Number.isInteger(channels) || channels < 1 || values.length % channels !== 0) {
    throw new Error(`fitPcaMonitor: ${values.length} values do not form rows of ${channels} channels`);
  }
  // varianceKept = 1 would keep components of (numerically) zero variance and divide T² by ~0.
  if (!(varianceKept > 0 && varianceKept < 1)) throw new Error(`fitPcaMonitor: varianceKept must be in (0, 1), got ${varianceKept}`);
  const T = values.length / channels;
  if (T < 2) throw new Error(`fitPcaMonitor: need at least 2 rows to estimate a covariance, got ${T}`);
  const mean = new Float64Array(channels);
  const std = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += values[t * channels + c] as number;
    mean[c] = s / T;
    let q = 0;
    for (let t = 0; t < T; t++) q += ((values[t * channels + c] as number) - (mean[c] as number)) ** 2;
    std[c] = Math.sqrt(q / (T - 1)) || 1;
  }
  const cov = new Float64Array(channels * channels);
  const z = new Float64Array(channels);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < channels; c++) z[c] = ((values[t * channels + c] as number) - (mean[c] as number)) / (std[c] as number);
    for (let i = 0; i < channels; i++) for (let j = i; j < channels; j++) cov[i * channels + j] += (z[i] as number) * (z[j] as number);
  }
  for (let i = 0; i < channels; i++) for (let j = i; j < channels; j++) {
    const v = (cov[i * channels + j] as number) / (T - 1);
    cov[i * channels + j] = v;
    cov[j * channels + i] = v;
  }
  const { values: ev, vectors } = symmetricEigen(cov, channels);
  const total = ev.reduce((s, x) => s + Math.max(x, 0), 0);
  let k = 0;
  let acc = 0;
  while (k < channels && acc / total < varianceKept) acc += Math.max(ev[k++] as number, 0);
  return { mean, std, loadings: vectors.slice(0, k * channels), eigenvalues: ev.slice(0, k), components: k, channels };
}

/**
 * Hotelling's T² (in the principal subspace, each score divided by its variance) and Q (squared
 * residual norm outside it, in standardised units) of each row.
 * @param values `[T, C]` row-major raw readings.
 * @returns `[T]` T² and `[T]` Q.
 * @throws Error when the values do not form rows of the model's C channels.
 */
export function pcaStatistics(m: PcaMonitor, values: Float32Array): { t2: Float64Array; q: Float64Array } {
  const C = m.channels;
  if (values.length % C !== 0) throw new Error(`pcaStatistics: ${values.length} values do not form rows of ${C} channels`);
  const T = values.length / C;
  const t2 = new Float64Array(T);
  const q = new Float64Array(T);
  const z = new Float64Array(C);
  const recon = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) z[c] = ((values[t * C + c] as number) - (m.mean[c] as number)) / (m.std[c] as number);
    recon.fill(0);
    let s2 = 0;
    for (let k = 0; k < m.components; k++) {
      let score = 0;
      for (let c = 0; c < C; c++) score += (m.loadings[k * C + c] as number) * (z[c] as number);
      s2 += (score * score) / (m.eigenvalues[k] as number);
      for (let c = 0; c < C; c++) recon[c] += score * (m.loadings[k * C + c] as number);
    }
    let e = 0;
    for (let c = 0; c < C; c++) e += ((z[c] as number) - (recon[c] as number)) ** 2;
    t2[t] = s2;
    q[t] = e;
  }
  return { t2, q };
}

/**
 * Empirical control limit: the q-quantile of statistics of normal data (numpy 'linear'
 * interpolation), e.g. q = 0.99 for a 1 % nominal false-alarm rate.
 * @throws Error when `q` is outside (0, 1) or there are no statistics.
 */
export function controlLimit(statistics: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`controlLimit: q must be in (0, 1), got ${q}`);
  if (statistics.length === 0) throw new Error('controlLimit: no statistics to take a quantile of');
  return quantileSorted(sortedCopy(statistics), q);
}
