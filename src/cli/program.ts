import { Command } from 'commander';
import { createRequire } from 'node:module';
import { demoCommand } from './demo-command.js';
import { evalCommand } from './eval-command.js';
import { replayCommand } from './replay-command.js';
import { runCommand } from './run-command.js';
import { scoreCommand } from './score-command.js';
import { simulateCommand } from './simulate-command.js';
import { trainCommand } from './train-command.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

/** The `convwatch` command line. Each command lives in its own file. */
export function buildProgram(): Command {
  const program = new Command('convwatch')
    .description('Streaming anomaly detection for multichannel sensor data with a causal Conv1d (TCN) forecaster')
    .version(pkg.version)
    .showHelpAfterError();
  program.addCommand(runCommand());
  program.addCommand(demoCommand());
  program.addCommand(trainCommand());
  program.addCommand(scoreCommand());
  program.addCommand(evalCommand());
  program.addCommand(replayCommand());
  program.addCommand(simulateCommand());
  return program;
}
