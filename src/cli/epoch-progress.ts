import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { TrainEpochReport } from '../model/train-tcn.js';

/**
 * Training progress: a bar with epoch, loss and validation loss on a terminal; one log line per
 * epoch (at info) when stderr is not a terminal, so CI logs stay readable.
 */
export function epochProgress(log: Logger, maxEpochs: number): { onEpoch: (r: TrainEpochReport) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) {
    return {
      onEpoch: (r) => log.info({ epoch: r.epoch, epochs: r.epochs, trainLoss: r.trainLoss, valLoss: r.valLoss, improved: r.improved, elapsedMs: r.elapsedMs }, 'epoch'),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'training |{bar}| epoch {value}/{total} | loss {loss} | val loss {val} | {elapsed}s', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(maxEpochs, 0, { loss: '—', val: '—', elapsed: '0' });
  return {
    onEpoch: (r) => bar.update(r.epoch, { loss: r.trainLoss.toPrecision(4), val: r.valLoss === null ? '—' : r.valLoss.toPrecision(4), elapsed: ((r.elapsedMs ?? 0) / 1000).toFixed(1) }),
    stop: () => bar.stop(),
  };
}
