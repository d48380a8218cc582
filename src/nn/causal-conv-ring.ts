/**
 * The history a causal convolution needs, for `capacity` independent streams (slots): per slot a
 * ring of the last `H = (K − 1)·d` input columns, time-major (`[H, C]`, one column of `C`
 * channels contiguous). A fresh ring holds zeros, which is exactly the causal left padding.
 *
 * It fills im2col rows in the tap-major order of {@link packConvWeight}
 * (`row[k·cw + ci]` = channel `c0 + ci` at `t − (K−1−k)·d`), in two shapes:
 * - step mode: many slots advance by one column each (rows `[count, K·cw]`);
 * - chunk mode: one slot advances by `L` columns (rows for chosen positions of the chunk).
 *
 * It allocates only in the constructor.
 */
export class CausalConvRing {
  /** Columns kept per slot: `(kernelSize − 1) · dilation`. */
  readonly historyLength: number;
  private readonly data: Float32Array;
  /** Per slot, the ring index the next column is written to (= its oldest column). */
  private readonly heads: Int32Array;

  constructor(
    readonly capacity: number,
    readonly channels: number,
    readonly kernelSize: number,
    readonly dilation: number,
  ) {
    this.historyLength = (kernelSize - 1) * dilation;
    this.data = new Float32Array(capacity * this.historyLength * channels);
    this.heads = new Int32Array(capacity);
  }

  /**
   * Fills `count` rows of `cols` (row stride `K·cw`) for slots `slots[i]` whose current input
   * column is row `i` of `cur` (`[count, channels]`), reading channels `[c0, c0 + cw)`.
   */
  gatherStep(slots: Int32Array, count: number, cur: Float32Array, cols: Float32Array, c0: number, cw: number): void {
    const { channels: C, kernelSize: K, dilation: d, historyLength: H, data, heads } = this;
    const kd = K * cw;
    for (let i = 0; i < count; i++) {
      const slot = slots[i];
      const base = slot * H * C;
      const head = heads[slot];
      const rowBase = i * kd;
      for (let k = 0; k < K; k++) {
        const back = (K - 1 - k) * d;
        const dst = rowBase + k * cw;
        const srcBase = back === 0 ? i * C + c0 : base + ((head - back + H) % H) * C + c0;
        const src = back === 0 ? cur : data;
        for (let ci = 0; ci < cw; ci++) cols[dst + ci] = src[srcBase + ci];
      }
    }
  }

  /** Appends row `i` of `cur` (`[count, channels]`) to slot `slots[i]`'s history. */
  pushStep(slots: Int32Array, count: number, cur: Float32Array): void {
    const { channels: C, historyLength: H, data, heads } = this;
    if (H === 0) return;
    for (let i = 0; i < count; i++) {
      const slot = slots[i];
      const head = heads[slot];
      // A plain loop: a subarray view per column would allocate on every step.
      const dst = slot * H * C + head * C;
      const src = i * C;
      for (let c = 0; c < C; c++) data[dst + c] = cur[src + c];
      heads[slot] = head + 1 === H ? 0 : head + 1;
    }
  }

  /**
   * Chunk mode: `cur` holds `length` new columns of slot `slot`, time-major (`[length, channels]`).
   * Fills one row per output position `t = first, first + step, …` (< `length`) into `cols`
   * (row stride `K·cw`) and returns how many rows it wrote.
   */
  gatherChunk(
    slot: number,
    length: number,
    cur: Float32Array,
    first: number,
    step: number,
    cols: Float32Array,
    c0: number,
    cw: number,
  ): number {
    const { channels: C, kernelSize: K, dilation: d, historyLength: H, data, heads } = this;
    const kd = K * cw;
    const base = slot * H * C;
    const head = heads[slot];
    let r = 0;
    for (let t = first; t < length; t += step, r++) {
      const rowBase = r * kd;
      for (let k = 0; k < K; k++) {
        const pos = t - (K - 1 - k) * d;
        const dst = rowBase + k * cw;
        if (pos >= 0) {
          const s = pos * C + c0;
          for (let ci = 0; ci < cw; ci++) cols[dst + ci] = cur[s + ci];
        } else {
          const s = base + ((head + pos + H) % H) * C + c0;
          for (let ci = 0; ci < cw; ci++) cols[dst + ci] = data[s + ci];
        }
      }
    }
    return r;
  }

  /** Appends the `length` columns of `cur` (`[length, channels]`) to slot `slot`'s history. */
  pushChunk(slot: number, length: number, cur: Float32Array): void {
    const { channels: C, historyLength: H, data, heads } = this;
    if (H === 0 || length === 0) return;
    const base = slot * H * C;
    if (length >= H) {
      data.set(cur.subarray((length - H) * C, length * C), base);
      heads[slot] = 0;
      return;
    }
    let head = heads[slot];
    for (let t = 0; t < length; t++) {
      const dst = base + head * C;
      const src = t * C;
      for (let c = 0; c < C; c++) data[dst + c] = cur[src + c];
      head = head + 1 === H ? 0 : head + 1;
    }
    heads[slot] = head;
  }

  /** Forgets slot `slot`'s history (back to causal zero padding). */
  resetSlot(slot: number): void {
    const n = this.historyLength * this.channels;
    this.data.fill(0, slot * n, (slot + 1) * n);
    this.heads[slot] = 0;
  }

  /** Slot `slot`'s history, oldest column first (`[H, channels]`), as a new array. */
  snapshotSlot(slot: number): Float32Array {
    const { channels: C, historyLength: H } = this;
    const out = new Float32Array(H * C);
    const base = slot * H * C;
    const head = this.heads[slot];
    for (let b = 0; b < H; b++) {
      const src = base + ((head + b) % H) * C;
      out.set(this.data.subarray(src, src + C), b * C);
    }
    return out;
  }

  /** Replaces slot `slot`'s history with `history` (`[H, channels]`, oldest first). */
  restoreSlot(slot: number, history: Float32Array): void {
    const n = this.historyLength * this.channels;
    if (history.length !== n) {
      throw new Error(`ring restore: history has ${history.length} values, expected ${n} (${this.historyLength} columns × ${this.channels} channels)`);
    }
    this.data.set(history, slot * n);
    this.heads[slot] = 0;
  }
}
