/**
 * `npm run bench [-- suite…] [--quick]`: runs the benchmark suites and writes the raw numbers to
 * bench/out/<suite>-<date>.json. Targets live here, not in tests; bench/RESULTS.md records the
 * results with the machine and date.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runConvBench } from './conv-bench.js';
import { runTrainBench } from './train-bench.js';
import { runE2eBench } from './e2e-bench.js';

const suites: Record<string, (o: { quick: boolean }) => Promise<unknown>> = {
  conv: runConvBench,
  train: runTrainBench,
  e2e: runE2eBench,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const chosen = args.filter((a) => !a.startsWith('--'));
  const names = chosen.length > 0 ? chosen : Object.keys(suites);
  const machine = { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), loadavg: os.loadavg() };
  console.log(`# convwatch benchmarks — ${new Date().toISOString()}\n${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  await mkdir(new URL('./out/', import.meta.url), { recursive: true });
  for (const name of names) {
    const suite = suites[name];
    if (suite === undefined) throw new Error(`unknown bench suite '${name}'; suites: ${Object.keys(suites).join(', ')}`);
    const rows = await suite({ quick });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await writeFile(new URL(`./out/${name}-${stamp}.json`, import.meta.url), JSON.stringify({ machine, quick, rows }, null, 2));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
