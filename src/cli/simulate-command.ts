import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CsvWriter } from '../io/csv-writer.js';
import { simulate } from '../sim/sensor-simulator.js';
import { createLogger } from './logger.js';
import { intArg } from './cli-args.js';

interface SimulateFlags {
  out: string;
  devices: number;
  rows: number;
  periodMs: number;
  channels: number;
  seed: number;
  anomalies: 'none' | 'random';
  start?: string;
}

/** `convwatch simulate`: writes a labelled multichannel recording from the sensor simulator. */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description('write a labelled recording from the sensor simulator (one row per device and time step)')
    .requiredOption('--out <csv>', 'output CSV: time, device, <channels…>, anomaly; segments go to <out>.labels.json')
    .option('--devices <n>', 'number of devices', intArg(1, 100_000), 3)
    .option('--rows <n>', 'time steps per device', intArg(1, 100_000_000), 5000)
    .option('--period-ms <ms>', 'time between readings, ms', intArg(1, 86_400_000), 1000)
    .option('--channels <n>', 'channels per device (the first n of the default machine channels)', intArg(1, 64), 8)
    .option('--seed <n>', 'random seed (same seed, same recording)', intArg(0, 2 ** 31 - 1), 1)
    .option('--start <iso>', 'time of the first row (default 2024-01-01T00:00:00Z)')
    .addOption(new Option('--anomalies <mode>', "'random': inject labelled anomalies of every kind; 'none': normal data only").choices(['none', 'random']).default('random'))
    .action(async (flags: SimulateFlags) => {
      const log = createLogger();
      const startMs = flags.start === undefined ? undefined : Date.parse(flags.start);
      if (startMs !== undefined && !Number.isFinite(startMs)) throw new Error(`--start: '${flags.start}' is not an ISO 8601 date-time`);
      const rec = simulate(
        { devices: flags.devices, rows: flags.rows, periodMs: flags.periodMs, channels: flags.channels, anomalies: flags.anomalies, ...(startMs === undefined ? {} : { startMs }) },
        flags.seed,
      );
      const writer = await CsvWriter.open(flags.out, ['time', 'device', ...rec.channels, 'anomaly']);
      const C = rec.channels.length;
      try {
        for (let t = 0; t < rec.rows; t++) {
          for (const d of rec.devices) {
            await writer.write([new Date(d.timesMs[t] as number).toISOString(), d.id, ...Array.from(d.values.subarray(t * C, (t + 1) * C)), d.labels[t] as number]);
          }
        }
      } finally {
        await writer.close();
      }
      const segments = rec.devices.flatMap((d) => d.anomalies);
      await writeFile(`${flags.out}.labels.json`, `${JSON.stringify({ seed: flags.seed, periodMs: rec.periodMs, channels: rec.channels, anomalies: segments }, null, 2)}\n`);
      log.info({ out: flags.out, devices: rec.devices.length, rows: rec.rows, anomalies: segments.length }, 'simulated');
    });
}
