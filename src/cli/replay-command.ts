import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { readCsvTable } from '../io/csv-table.js';
import { tokenizeCsv } from '../io/csv-tokenize.js';
import { MAX_IN_FLIGHT, replay, type ReplayPace, type ReplayRow } from '../io/replay-publisher.js';
import { intArg, numberArg } from './cli-args.js';
import { addCsvOptions, csvTableOptions, describeTableIssues, type CsvFlags } from './csv-options.js';
import { createLogger } from './logger.js';

interface ReplayFlags extends CsvFlags {
  data: string;
  broker: string;
  topic: string;
  device?: string;
  deviceColumn?: string;
  speed?: number;
  rate?: number;
  maxRate?: boolean;
  qos: 0 | 1;
  startNow?: boolean;
  loop?: boolean;
  maxInFlight: number;
  mqttVersion: 4 | 5;
}

/** Device of every table row: one fixed id, or the `--device-column` cell of its file line. */
async function devicesOf(flags: ReplayFlags, lines: Uint32Array, delimiter: string): Promise<string[]> {
  if (flags.deviceColumn === undefined) return Array.from(lines, () => flags.device ?? 'device-0');
  const recs = tokenizeCsv(await readFile(flags.data, 'utf8'), { delimiter: delimiter as ',', source: flags.data });
  const col = recs.header.indexOf(flags.deviceColumn);
  if (col < 0) throw new Error(`${flags.data}: no column '${flags.deviceColumn}' for --device-column (columns: ${recs.header.join(', ')})`);
  const byLine = new Map<number, string>();
  recs.rows.forEach((r, i) => byLine.set(recs.lines[i] as number, (r[col] ?? '').trim()));
  return Array.from(lines, (line) => {
    const d = byLine.get(line) ?? '';
    if (d === '') throw new Error(`${flags.data}:${line}: empty device in column '${flags.deviceColumn}'`);
    return d;
  });
}

/** `convwatch replay`: publishes a recorded CSV to a broker as live readings. */
export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('publish a recorded CSV to an MQTT broker as readings (JSON object per reading), keeping its timing')
    .requiredOption('--data <csv>', 'recording with a header row and a time column')
    .requiredOption('--broker <url>', 'broker URL, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--topic <template>', "topic template with {device}, e.g. 'plant/{device}/data'")
    .option('--device <id>', 'device id for every row (default device-0)')
    .option('--device-column <name>', 'column holding each row\'s device id')
    .option('--speed <factor>', 'replay the recorded gaps divided by this factor (default 1: real time)', numberArg(0, 1e9))
    .option('--rate <readings/s>', 'fixed readings per second instead of the recorded timing', numberArg(0, 1e7))
    .option('--max-rate', 'as fast as the in-flight window allows')
    .addOption(new Option('--qos <qos>', 'publish QoS').choices(['0', '1']).default(1).argParser((v) => Number(v) as 0 | 1))
    .option('--start-now', 'shift times so the first row is now (keeps the gaps)')
    .option('--loop', 'start over at the end, continuing the clock, until interrupted')
    .option('--max-in-flight <n>', 'unacknowledged QoS-1 publishes at once', intArg(1, MAX_IN_FLIGHT), 1000)
    .addOption(new Option('--mqtt-version <v>', 'MQTT protocol version').choices(['4', '5']).default(5).argParser((v) => Number(v) as 4 | 5));
  addCsvOptions(cmd, false);
  cmd.action(async (flags: ReplayFlags) => {
    const log = createLogger();
    const paces = [flags.speed !== undefined, flags.rate !== undefined, flags.maxRate === true].filter(Boolean).length;
    if (paces > 1) throw new Error('replay: give at most one of --speed, --rate, --max-rate');
    if (flags.device !== undefined && flags.deviceColumn !== undefined) throw new Error('replay: give --device or --device-column, not both');
    const exclude = flags.deviceColumn === undefined ? flags.exclude : [flags.exclude, flags.deviceColumn].filter((x) => x !== undefined).join(',');
    // A label column (detected by name) is never published as a channel.
    const table = await readCsvTable(flags.data, csvTableOptions({ ...flags, exclude }, 'detect'));
    for (const line of describeTableIssues(table)) log.warn({ file: flags.data }, line);
    if (table.timesMs === null) throw new Error(`${flags.data}: replay needs a time column (name it with --time-column)`);
    const devices = await devicesOf(flags, table.lines, table.delimiter);
    const C = table.channels.length;
    const rows: ReplayRow[] = [];
    for (let t = 0; t < table.rows; t++) {
      const values: Record<string, number> = {};
      table.channels.forEach((ch, c) => (values[ch] = table.values[t * C + c] as number));
      rows.push({ device: devices[t] as string, timeMs: table.timesMs[t] as number, values });
    }
    const pace: ReplayPace = flags.rate !== undefined ? { kind: 'rate', perSecond: flags.rate } : flags.maxRate === true ? { kind: 'max' } : { kind: 'speed', factor: flags.speed ?? 1 };
    const tty = process.stderr.isTTY === true;
    const bar = tty ? new cliProgress.SingleBar({ format: 'replay |{bar}| {value}/{total} published | {acked} acked | {failed} failed', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
    bar?.start(flags.loop === true ? 0 : rows.length, 0, { acked: 0, failed: 0 });
    let onSignal: (() => void) | null = null;
    const stop = new Promise<void>((resolve) => {
      onSignal = resolve;
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const summary = await replay(rows, {
      brokerUrl: flags.broker,
      clientId: `convwatch-replay-${hostname()}-${process.pid}`,
      topicTemplate: flags.topic,
      qos: flags.qos,
      pace,
      startNow: flags.startNow === true,
      maxInFlight: flags.maxInFlight,
      passes: flags.loop === true ? Number.POSITIVE_INFINITY : 1,
      protocolVersion: flags.mqttVersion,
      stop,
      onProgress: (p) => (bar !== null ? bar.update(p.published, { acked: p.acknowledged, failed: p.failed }) : undefined),
    });
    bar?.stop();
    if (onSignal !== null) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    process.stdout.write(
      `published ${summary.published}, acknowledged ${summary.acknowledged}, failed ${summary.failed}, ` +
        `${summary.ratePerSecond.toFixed(0)} readings/s over ${(summary.elapsedMs / 1000).toFixed(1)} s${summary.stoppedEarly ? ' (stopped early)' : ''}\n`,
    );
    if (summary.failed > 0) process.exitCode = 2;
  });
  return cmd;
}
