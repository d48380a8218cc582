/**
 * A small side-by-side timing harness: contenders run in interleaved rounds (A B C A B C …) so
 * that load from other processes on this shared machine hits all of them alike, and each result
 * is the median over rounds. Numbers are per operation.
 */
export interface Contender {
  readonly name: string;
  /** Operations one call of `run` performs (e.g. samples, or streams × steps). */
  readonly opsPerCall: number;
  /** Work to time. Must be deterministic in cost. */
  run(): void;
}

export interface TimingResult {
  readonly name: string;
  /** Median microseconds per operation over the rounds. */
  readonly medianUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly rounds: number;
}

function timeCalls(c: Contender, targetMs: number): number {
  // Calibrate calls so one round lasts about targetMs.
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) c.run();
    const dt = performance.now() - t0;
    if (dt >= targetMs / 4 || calls >= 1 << 24) return Math.max(1, Math.round((calls * targetMs) / Math.max(dt, 1e-3)));
    calls *= 4;
  }
}

/** Runs `rounds` interleaved rounds of every contender, after a warm-up, and reports medians. */
export function compare(contenders: readonly Contender[], options: { rounds?: number; roundMs?: number; warmupMs?: number } = {}): TimingResult[] {
  const rounds = options.rounds ?? 7;
  const roundMs = options.roundMs ?? 150;
  const warmupMs = options.warmupMs ?? 200;
  const calls = contenders.map((c) => {
    const end = performance.now() + warmupMs;
    while (performance.now() < end) c.run();
    return timeCalls(c, roundMs);
  });
  const samples: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    contenders.forEach((c, i) => {
      const n = calls[i] as number;
      const t0 = performance.now();
      for (let k = 0; k < n; k++) c.run();
      const dt = performance.now() - t0;
      (samples[i] as number[]).push((dt * 1000) / (n * c.opsPerCall));
    });
  }
  return contenders.map((c, i) => {
    const s = [...(samples[i] as number[])].sort((a, b) => a - b);
    return { name: c.name, medianUs: s[Math.floor(s.length / 2)] as number, minUs: s[0] as number, maxUs: s[s.length - 1] as number, rounds };
  });
}

/** Formats a markdown table row by row. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
