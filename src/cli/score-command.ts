import { Command } from 'commander';
import { CsvWriter } from '../io/csv-writer.js';
import { readCsvTable } from '../io/csv-table.js';
import { loadModel } from '../io/model-dir.js';
import { scoringKernel } from './kernels.js';
import { addCsvOptions, csvTableOptions, describeTableIssues, type CsvFlags } from './csv-options.js';
import { createLogger } from './logger.js';
import { alignChannels } from './align-channels.js';

interface ScoreFlags extends CsvFlags {
  model: string;
  data: string;
  out: string;
}

/** `convwatch score`: runs a CSV through a model reading by reading, exactly as the live service does. */
export function scoreCommand(): Command {
  const cmd = new Command('score')
    .description('score every row of a CSV with a trained model, reading by reading as the live service does')
    .requiredOption('--model <dir>', 'model directory (model.json + weights.safetensors)')
    .requiredOption('--data <csv>', 'input CSV with a header row')
    .requiredOption('--out <csv>', 'output CSV: time, score, threshold, anomaly, ready, contrib_<channel>…');
  addCsvOptions(cmd, false);
  cmd.action(async (flags: ScoreFlags) => {
    const log = createLogger();
    const detector = await loadModel(flags.model);
    const table = await readCsvTable(flags.data, { ...csvTableOptions(flags, 'none'), channels: flags.channels === undefined ? detector.channels : csvTableOptions(flags, 'none').channels });
    for (const line of describeTableIssues(table)) log.warn({ file: flags.data }, line);
    const values = alignChannels(table, detector.channels);
    const C = detector.channels.length;
    const stream = detector.createStream(scoringKernel());
    const header = ['time', 'score', 'threshold', 'anomaly', 'ready', ...detector.channels.map((c) => `contrib_${c}`)];
    const writer = await CsvWriter.open(flags.out, header);
    let flagged = 0;
    let events = 0;
    try {
      for (let t = 0; t < table.rows; t++) {
        const time = table.timesMs === null ? t : (table.timesMs[t] as number);
        const r = stream.push(values.subarray(t * C, (t + 1) * C), time);
        flagged += r.anomaly;
        if (r.event?.kind === 'start') events++;
        await writer.write([
          table.timesMs === null ? t : new Date(time).toISOString(),
          r.ready ? r.score : '',
          r.threshold,
          r.anomaly,
          r.ready ? 1 : 0,
          ...Array.from(r.contrib, (v) => (r.ready ? v : '')),
        ]);
      }
    } finally {
      await writer.close();
    }
    log.info({ rows: table.rows, warmup: detector.warmupReadings, flagged, events, out: flags.out }, 'scored');
  });
  return cmd;
}
