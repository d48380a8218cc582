/**
 * The point spool's memory copy of its most recent unsettled records, so the sender rarely reads
 * the disk. A suffix of the spool: records leave from the head when settled or when the cache
 * holds more than `maxPoints` lines (those are then read back from disk).
 */
export class SpoolCache {
  private readonly records: { readonly firstSeq: number; readonly lines: readonly string[]; readonly receivedAtMs: Float64Array | null }[] = [];
  private head = 0;
  private count = 0;

  /** @param maxPoints lines kept at most (0: none). */
  constructor(private readonly maxPoints: number) {}

  /** Lines held. */
  get points(): number {
    return this.count;
  }

  /** Seq of the oldest line held, or `fallback` (the next seq to be given out) when empty. */
  firstSeq(fallback: number): number {
    return this.head < this.records.length ? this.records[this.head].firstSeq : fallback;
  }

  /** Adds a record (its seqs follow those held), then trims to `maxPoints`. */
  push(firstSeq: number, lines: readonly string[], receivedAtMs: Float64Array | null): void {
    this.records.push({ firstSeq, lines, receivedAtMs });
    this.count += lines.length;
    while (this.count > this.maxPoints) this.dropHead();
  }

  /** Forgets records whose lines all have seq ≤ `seq`. */
  evictThrough(seq: number): void {
    while (this.head < this.records.length) {
      const record = this.records[this.head];
      if (record.firstSeq + record.lines.length - 1 > seq) break;
      this.dropHead();
    }
  }

  /** Hands lines with seq ≥ `fromSeq` to `take`, in order, until it returns false. */
  read(fromSeq: number, take: (seq: number, line: string, receivedAtMs: number) => boolean): void {
    for (let r = this.head; r < this.records.length; r++) {
      const record = this.records[r];
      for (let i = Math.max(0, fromSeq - record.firstSeq); i < record.lines.length; i++) {
        if (!take(record.firstSeq + i, record.lines[i], record.receivedAtMs === null ? NaN : record.receivedAtMs[i])) return;
      }
    }
  }

  private dropHead(): void {
    this.count -= this.records[this.head].lines.length;
    this.head++;
    if (this.head === this.records.length) {
      this.records.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }
}
