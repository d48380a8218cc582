import type { Activation } from './activations.js';
import { CausalConvRing } from './causal-conv-ring.js';
import { packConvGroups } from './conv-packing.js';
import type { Conv1d } from './conv1d-layer.js';
import type { GemmKernel, PackedMatrix } from './gemm.js';
import type { Tcn } from './tcn.js';
import type { TcnBatchStreamLike, TcnStreamSnapshot } from './tcn-stream.js';

interface CausalLayer {
  readonly ring: CausalConvRing;
  readonly mat: PackedMatrix;
  readonly cin: number;
  readonly cout: number;
}

interface BlockState {
  readonly conv1: CausalLayer;
  readonly conv2: CausalLayer;
  readonly downsample: PackedMatrix | null;
  readonly cout: number;
}

function packLayer(conv: Conv1d, kernel: GemmKernel): PackedMatrix {
  const o = conv.options;
  const packed = packConvGroups(conv.weight.data, conv.bias === null ? null : conv.bias.data, o.outChannels, o.inChannels, o.kernelSize, 1, kernel);
  return packed[0] as PackedMatrix;
}

/**
 * The `'gemm'` engine of {@link TcnBatchStreamLike} (reached through `TcnBatchStream`). Each slot has its own ring buffers; a call advances any subset of slots by
 * one column each, and every layer becomes one matrix product over those slots
 * (`[count, K·C] × [K·C, Cout]`), or one slot by a whole chunk.
 *
 * Scratch grows to the largest `count` or chunk seen, then nothing is allocated per step.
 */
export class GemmTcnBatchStream implements TcnBatchStreamLike {
  readonly capacity: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly receptiveField: number;
  private readonly blocks: BlockState[];
  private readonly head: PackedMatrix;
  private readonly act: Activation;
  private readonly seen: Float64Array;
  private readonly maxChannels: number;
  private readonly maxKd: number;
  private rowsCapacity = 0;
  private cols = new Float32Array(0);
  private bufA = new Float32Array(0);
  private bufB = new Float32Array(0);
  private bufC = new Float32Array(0);
  private bufD = new Float32Array(0);

  /** @throws Error if `capacity` is not a positive integer. */
  constructor(tcn: Tcn, capacity: number, kernel: GemmKernel) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TcnBatchStream: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    const arch = tcn.architecture;
    this.inChannels = arch.inChannels;
    this.outChannels = arch.outChannels;
    this.receptiveField = tcn.receptiveField;
    this.act = tcn.activation;
    this.seen = new Float64Array(capacity);
    let maxC = Math.max(arch.inChannels, arch.outChannels);
    let maxKd = 0;
    this.blocks = tcn.blocks.map((b) => {
      const cin = b.conv1.options.inChannels;
      const cout = b.conv1.options.outChannels;
      maxC = Math.max(maxC, cin, cout);
      maxKd = Math.max(maxKd, arch.kernelSize * Math.max(cin, cout));
      const layer = (conv: Conv1d): CausalLayer => ({
        ring: new CausalConvRing(capacity, conv.options.inChannels, arch.kernelSize, b.dilation),
        mat: packLayer(conv, kernel),
        cin: conv.options.inChannels,
        cout: conv.options.outChannels,
      });
      return { conv1: layer(b.conv1), conv2: layer(b.conv2), downsample: b.downsample === null ? null : packLayer(b.downsample, kernel), cout };
    });
    this.head = packLayer(tcn.head, kernel);
    this.maxChannels = maxC;
    this.maxKd = maxKd;
  }

  samplesSeen(slot: number): number {
    return this.seen[this.checkSlot(slot)] as number;
  }

  isReady(slot: number): boolean {
    return this.samplesSeen(slot) >= this.receptiveField;
  }

  stepSlots(slots: Int32Array, count: number, x: Float32Array, out: Float32Array): void {
    if (count === 0) return;
    if (count > this.capacity || count > slots.length) throw new Error(`TcnBatchStream.stepSlots: count ${count} exceeds the ${Math.min(this.capacity, slots.length)} slots given`);
    if (x.length < count * this.inChannels) throw new Error(`TcnBatchStream.stepSlots: x holds ${x.length} values, needs ${count}×${this.inChannels}`);
    if (out.length < count * this.outChannels) throw new Error(`TcnBatchStream.stepSlots: out holds ${out.length} values, needs ${count}×${this.outChannels}`);
    for (let i = 0; i < count; i++) {
      const s = this.checkSlot(slots[i] as number);
      // A repeated slot would read history that the same call is about to overwrite.
      for (let j = 0; j < i; j++) if (slots[j] === s) throw new Error(`TcnBatchStream.stepSlots: slot ${s} appears twice in one step`);
    }
    this.ensureRows(count);
    this.run(count, x, out, slots, -1);
    for (let i = 0; i < count; i++) this.seen[slots[i] as number] += 1;
  }

  pushChunkSlot(slot: number, length: number, x: Float32Array, out: Float32Array): void {
    this.checkSlot(slot);
    if (length === 0) return;
    if (x.length < length * this.inChannels) throw new Error(`TcnBatchStream.pushChunkSlot: x holds ${x.length} values, needs ${length}×${this.inChannels}`);
    if (out.length < length * this.outChannels) throw new Error(`TcnBatchStream.pushChunkSlot: out holds ${out.length} values, needs ${length}×${this.outChannels}`);
    this.ensureRows(length);
    this.run(length, x, out, null, slot);
    this.seen[slot] += length;
  }

  resetSlot(slot: number): void {
    this.checkSlot(slot);
    for (const b of this.blocks) {
      b.conv1.ring.resetSlot(slot);
      b.conv2.ring.resetSlot(slot);
    }
    this.seen[slot] = 0;
  }

  snapshotSlot(slot: number): TcnStreamSnapshot {
    this.checkSlot(slot);
    const histories: Float32Array[] = [];
    for (const b of this.blocks) histories.push(b.conv1.ring.snapshotSlot(slot), b.conv2.ring.snapshotSlot(slot));
    return { histories, seen: this.seen[slot] as number };
  }

  restoreSlot(slot: number, snapshot: TcnStreamSnapshot): void {
    this.checkSlot(slot);
    const n = this.blocks.length * 2;
    if (snapshot.histories.length !== n) throw new Error(`TCN stream restore: snapshot has ${snapshot.histories.length} layer histories, this model has ${n}`);
    if (!Number.isInteger(snapshot.seen) || snapshot.seen < 0) throw new Error(`TCN stream restore: seen must be a non-negative integer, got ${snapshot.seen}`);
    // Check every history before changing any, so a bad snapshot leaves the slot as it was.
    this.blocks.forEach((b, i) => {
      for (const [ring, h] of [[b.conv1.ring, snapshot.histories[2 * i]], [b.conv2.ring, snapshot.histories[2 * i + 1]]] as const) {
        const n = ring.historyLength * ring.channels;
        if (h === undefined || h.length !== n) {
          throw new Error(`ring restore: history has ${h?.length} values, expected ${n} (${ring.historyLength} columns × ${ring.channels} channels)`);
        }
      }
    });
    this.blocks.forEach((b, i) => {
      b.conv1.ring.restoreSlot(slot, snapshot.histories[2 * i] as Float32Array);
      b.conv2.ring.restoreSlot(slot, snapshot.histories[2 * i + 1] as Float32Array);
    });
    this.seen[slot] = snapshot.seen;
  }

  private checkSlot(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) {
      throw new Error(`TcnBatchStream: slot ${slot} is outside [0, ${this.capacity})`);
    }
    return slot;
  }

  private ensureRows(rows: number): void {
    if (rows <= this.rowsCapacity) return;
    let cap = Math.max(this.rowsCapacity, 1);
    while (cap < rows) cap *= 2;
    this.rowsCapacity = cap;
    this.cols = new Float32Array(cap * this.maxKd);
    this.bufA = new Float32Array(cap * this.maxChannels);
    this.bufB = new Float32Array(cap * this.maxChannels);
    this.bufC = new Float32Array(cap * this.maxChannels);
    this.bufD = new Float32Array(cap * this.maxChannels);
  }

  /**
   * The layer sequence shared by step and chunk mode; only how im2col rows are gathered and how
   * history is appended differ. Rows are time- or slot-major `[m, C]` throughout.
   */
  /** Step mode (`slots` given): row i is slot `slots[i]`'s new column. Chunk mode (`slots` null): `m` columns of slot `chunkSlot`. */
  private gather(layer: CausalLayer, m: number, cur: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    if (slots !== null) layer.ring.gatherStep(slots, m, cur, this.cols, 0, layer.cin);
    else layer.ring.gatherChunk(chunkSlot, m, cur, 0, 1, this.cols, 0, layer.cin);
  }

  private push(layer: CausalLayer, m: number, cur: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    if (slots !== null) layer.ring.pushStep(slots, m, cur);
    else layer.ring.pushChunk(chunkSlot, m, cur);
  }

  private run(m: number, x: Float32Array, out: Float32Array, slots: Int32Array | null, chunkSlot: number): void {
    const act = this.act;
    const cols = this.cols;
    let cur = x;
    // Rotate through scratch buffers so a block's input stays readable until its residual add.
    let h1 = this.bufA;
    let h2 = this.bufB;
    let res = this.bufC;
    let spare = this.bufD;
    for (const b of this.blocks) {
      const c = b.cout;
      this.gather(b.conv1, m, cur, slots, chunkSlot);
      b.conv1.mat.run(m, cols, 0, h1, 0, c);
      act.applyInPlace(h1, 0, m * c);
      this.push(b.conv1, m, cur, slots, chunkSlot);
      this.gather(b.conv2, m, h1, slots, chunkSlot);
      b.conv2.mat.run(m, cols, 0, h2, 0, c);
      act.applyInPlace(h2, 0, m * c);
      this.push(b.conv2, m, h1, slots, chunkSlot);
      let r = cur;
      if (b.downsample !== null) {
        b.downsample.run(m, cur, 0, res, 0, c);
        r = res;
      }
      for (let i = 0, n = m * c; i < n; i++) h2[i] = h2[i] + r[i];
      act.applyInPlace(h2, 0, m * c);
      cur = h2;
      // h2 is the next block's input and is not written by it; the other three are free again.
      const next = h2;
      h2 = res;
      res = spare;
      spare = next;
    }
    this.head.run(m, cur, 0, out, 0, this.outChannels);
  }
}
