import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import mqtt from 'mqtt';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, parseConfig } from '../config/load-config.js';
import { fillTopic } from '../io/alert-message.js';
import { createSimulator } from '../sim/sensor-simulator.js';
import { intArg, numberArg } from './cli-args.js';
import { createLogger } from './logger.js';
import { startRun, stopOnSignals } from './run-command.js';

interface DemoFlags {
  config: string;
  devices: number;
  rate: number;
  seed: number;
  duration: number;
  influxUrl?: string;
  influxOrg?: string;
  influxBucket?: string;
}

/** The embedded default: config/default.yaml beside the package. */
const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

/**
 * `convwatch demo` (what `npm start` runs): an embedded broker, simulated machines publishing
 * readings with injected anomalies, and the real service (the same code as `convwatch run`)
 * scoring them, with a live summary in the terminal.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('the whole system on one machine: embedded broker, simulated machines with injected anomalies, and the live detector')
    .option('--config <file>', 'service configuration', DEFAULT_CONFIG)
    .option('--devices <n>', 'simulated machines', intArg(1, 10_000), 4)
    .option('--rate <n>', 'readings per second per machine', numberArg(0, 1000), 20)
    .option('--seed <n>', 'simulator seed', intArg(0, 2 ** 31 - 1), 2026)
    .option('--duration <s>', 'stop after this many seconds (0: until Ctrl-C)', intArg(0, 1e9), 0)
    .option('--influx-url <url>', 'write to this InfluxDB 2 instead of the line-protocol file (token from CONVWATCH_INFLUX_TOKEN)')
    .option('--influx-org <org>', 'InfluxDB organisation (with --influx-url)')
    .option('--influx-bucket <bucket>', 'InfluxDB bucket (with --influx-url)')
    .action(async (flags: DemoFlags) => {
      let config = loadConfig(flags.config).config;
      if (flags.influxUrl !== undefined) {
        // The file's output section is replaced (not merged): InfluxDB instead of the local file.
        const input = parseYaml(await readFile(flags.config, 'utf8')) as Record<string, unknown>;
        const spool = { dir: join(dirname(config.state.checkpointDir), 'spool') };
        const r = parseConfig(
          { ...input, output: { kind: 'influx' }, influx: { url: flags.influxUrl, org: flags.influxOrg, bucket: flags.influxBucket, spool } },
          process.env,
          { cwd: dirname(flags.config) },
        );
        if (!r.ok) throw new ConfigError(r.issues, flags.config);
        config = r.config;
      }
      const log = createLogger(process.env['CONVWATCH_LOG_LEVEL'] ?? 'warn');
      const run = await startRun(config, log);
      const topic = config.subscriptions[0]?.topic ?? 'convwatch/demo/{device}/telemetry';
      const publisher = await mqtt.connectAsync(run.config.mqtt.url, { clientId: `convwatch-demo-sim-${process.pid}`, protocolVersion: 4 });
      const sim = createSimulator(
        { devices: Array.from({ length: flags.devices }, (_, i) => `machine-${i + 1}`), rows: Number.POSITIVE_INFINITY, anomalies: 'random', randomAnomalies: { cleanPrefixRows: 300, meanGapRows: 500, minGapRows: 200 } },
        flags.seed,
      );
      const outputText = run.config.output.kind === 'influx' ? `InfluxDB ${run.config.influx.url} (bucket ${run.config.influx.bucket ?? '?'})` : `line protocol → ${run.config.output.path}`;
      const started = Date.now();
      let published = 0;
      let injected = 0;
      const tick = setInterval(() => {
        const step = sim.next();
        const now = Date.now();
        for (const r of step.readings) {
          if (r.label === 1) injected++;
          const values: Record<string, number | string> = { time: new Date(now).toISOString() };
          sim.channels.forEach((c, i) => (values[c] = r.values[i] as number));
          publisher.publish(fillTopic(topic, { device: r.deviceId }), JSON.stringify(values), { qos: 1 });
          published++;
        }
      }, 1000 / flags.rate);
      let lastScored = 0;
      const render = setInterval(() => {
        const s = run.service.status();
        const secs = (Date.now() - started) / 1000;
        const lines = [
          `\x1b[2J\x1b[H convwatch demo — ${secs.toFixed(0)} s   (Ctrl-C stops: drain, flush, checkpoint)`,
          ` broker ${run.config.mqtt.url}   output ${outputText}${run.service.httpUrl === null ? '' : `   metrics ${run.service.httpUrl}/metrics`}`,
          ` machines ${flags.devices}   published ${published}   received ${s.received}   scored ${s.scored} (${s.scored - lastScored}/s)   points confirmed ${s.points.confirmed}   alerts ${s.alerts}   dead letters ${s.deadLetters}`,
          ' each machine is scored once it has sent one receptive field of readings (the warm-up)',
          '',
          s.openAnomalies.size === 0 ? ' no anomaly open right now' : ' OPEN ANOMALIES',
          ...[...s.openAnomalies].map(([device, a]) => `  ${device.padEnd(12)} since ${new Date(a.startMs).toISOString().slice(11, 19)}   top channels: ${a.topChannels.join(', ')}`),
          '',
          ` simulator: ${injected} anomalous readings injected so far`,
        ];
        lastScored = s.scored;
        process.stdout.write(`${lines.join('\n')}\n`);
      }, 1000);
      const stopAll = (): void => {
        clearInterval(tick);
        clearInterval(render);
        void publisher.endAsync();
      };
      stopOnSignals(run, log, stopAll);
      if (flags.duration > 0) {
        setTimeout(() => {
          stopAll();
          void run.stop('duration reached').then(() => process.exit(0));
        }, flags.duration * 1000);
      }
    });
}
