import { Command } from 'commander';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/resolve-config.js';
import { redactConfig } from '../config/secrets.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../io/embedded-broker.js';
import { createLogger } from './logger.js';
import { startService, type RunningService } from './service.js';

/** A service with its embedded broker (when configured), stopped together. */
export interface StartedRun {
  readonly service: RunningService;
  readonly broker: EmbeddedBroker | null;
  /** The config actually used (mqtt.url points at the embedded broker when there is one). */
  readonly config: Config;
  stop(reason: string): Promise<{ unconfirmed: number }>;
}

/** Starts the embedded broker if the config asks for it, then the service against it. */
export async function startRun(config: Config, log: Logger): Promise<StartedRun> {
  let broker: EmbeddedBroker | null = null;
  let used = config;
  if (config.embeddedBroker.enabled) {
    broker = await startEmbeddedBroker({ host: config.embeddedBroker.listen.host, port: config.embeddedBroker.listen.port });
    if (broker.port !== config.embeddedBroker.listen.port) log.warn({ requested: config.embeddedBroker.listen.port, port: broker.port }, 'embedded broker port was taken; using a free one');
    // aedes speaks MQTT 3.1.1.
    used = { ...config, mqtt: { ...config.mqtt, url: broker.url, protocolVersion: 4 } };
    log.info({ url: broker.url }, 'embedded broker started');
  }
  try {
    const service = await startService(used, log);
    return {
      service,
      broker,
      config: used,
      stop: async (reason) => {
        const r = await service.stop(reason);
        await broker?.close();
        return r;
      },
    };
  } catch (e) {
    await broker?.close();
    throw e;
  }
}

/**
 * Stops `run` on SIGINT/SIGTERM (once) and exits with 0 after a clean drain. Pass the starting
 * run's promise to be covered from the start: a signal that arrives while the service starts
 * waits for it to be up, then drains it (exit 1 if it failed to start).
 */
export function stopOnSignals(run: StartedRun | Promise<StartedRun>, log: Logger, after?: () => void): void {
  let signalled = false;
  const onSignal = (signal: string): void => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    signalled = true;
    after?.();
    Promise.resolve(run)
      .then((started) => started.stop(signal))
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        log.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

/** `convwatch run`: the live service. */
export function runCommand(): Command {
  return new Command('run')
    .description('run the live service: MQTT in, streaming detector, InfluxDB points and MQTT alerts out')
    .option('--config <file>', 'configuration file (YAML or JSON); environment variables CONVWATCH_* override it')
    .option('--check', 'validate the configuration (no network) and exit')
    .action(async (flags: { config?: string; check?: boolean }) => {
      const { config, warnings } = loadConfig(flags.config ?? null);
      const log = createLogger(config.log.level);
      for (const w of warnings) log.warn({ option: w.path }, w.message);
      if (flags.check === true) {
        process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
        return;
      }
      // Signals are handled from before the start: one that arrives while the service starts
      // (e.g. right after it logged "convwatch running") still drains it.
      const starting = startRun(config, log);
      stopOnSignals(starting, log);
      await starting;
    });
}
