/**
 * Measures the memory that device state costs, for sizing deployments (docs/deploy.md).
 *
 * The service allocates one `DetectorBatch` of `pipeline.maxDevices` slots per model at start
 * (`src/stream/pipeline.ts`), with the default kernel, so memory follows maxDevices, not the
 * devices seen. This script reproduces that allocation for the demo model at several sizes,
 * each in a fresh child process (a heap that has held a larger batch would blur a smaller one),
 * fills every slot with a few readings so lazily allocated buffers exist too, and prints one
 * JSON line per size plus the per-device slope.
 *
 * Run: `npx tsx test/deploy/measure-memory.ts [model dir] [N …]` (defaults: models/demo, 1 1000 10000).
 * Not a test: the numbers depend on the machine and Node version; they are recorded in docs/deploy.md.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/io/model-dir.js';

interface Sample {
  readonly n: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly arrayBuffersMiB: number;
  readonly externalMiB: number;
  readonly baselineRssMiB: number;
  readonly baselineHeapUsedMiB: number;
}

const MIB = 1024 * 1024;
const round = (bytes: number): number => Math.round((bytes / MIB) * 100) / 100;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with --expose-gc');
  gc();
  gc();
}

/** One size, in this process: model loaded, batch of n slots created and stepped. */
async function measureOne(modelDir: string, n: number): Promise<Sample> {
  const detector = await loadModel(modelDir);
  collect();
  const base = process.memoryUsage();
  const batch = detector.createBatch(n);
  const C = detector.channels.length;
  // Three readings for every slot, in groups of up to 256 devices (the default pipeline.maxBatch).
  const group = Math.min(256, n);
  const readings = new Float32Array(group * C).fill(1);
  const times = new Float64Array(group);
  const slots = new Int32Array(group);
  for (let step = 0; step < 3; step++) {
    for (let first = 0; first < n; first += group) {
      const count = Math.min(group, n - first);
      for (let i = 0; i < count; i++) {
        slots[i] = first + i;
        times[i] = 1_700_000_000_000 + step * 1000;
      }
      batch.observe(slots, count, readings, times);
    }
  }
  collect();
  const m = process.memoryUsage();
  return {
    // Read after the measurement, so the batch is still reachable when it is taken.
    n: batch.capacity,
    rssMiB: round(m.rss),
    heapUsedMiB: round(m.heapUsed - base.heapUsed),
    arrayBuffersMiB: round(m.arrayBuffers - base.arrayBuffers),
    externalMiB: round(m.external - base.external),
    baselineRssMiB: round(base.rss),
    baselineHeapUsedMiB: round(base.heapUsed),
  };
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--child') {
    const [modelDir, n] = rest;
    process.stdout.write(`${JSON.stringify(await measureOne(modelDir ?? '', Number(n)))}\n`);
    return;
  }
  const repo = resolve(fileURLToPath(import.meta.url), '../../..');
  const modelDir = resolve(mode ?? resolve(repo, 'models/demo'));
  const sizes = rest.length > 0 ? rest.map(Number) : [1, 1000, 10_000];
  const samples: Sample[] = [];
  for (const n of sizes) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', modelDir, String(n)], { encoding: 'utf8' });
    const s = JSON.parse(out) as Sample;
    samples.push(s);
    process.stdout.write(`${JSON.stringify(s)}\n`);
  }
  const lo = samples[0];
  const hi = samples[samples.length - 1];
  if (lo !== undefined && hi !== undefined && hi.n > lo.n) {
    const slope = (a: number, b: number): number => ((b - a) * MIB) / (hi.n - lo.n);
    const heap = slope(lo.heapUsedMiB + lo.arrayBuffersMiB, hi.heapUsedMiB + hi.arrayBuffersMiB);
    const rss = slope(lo.rssMiB, hi.rssMiB);
    process.stdout.write(`${JSON.stringify({ perDeviceBytes: { heapPlusArrayBuffers: Math.round(heap), rss: Math.round(rss) } })}\n`);
  }
}

await main();
