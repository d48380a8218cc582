import { Option, type Command } from 'commander';
import type { CsvTable } from '../io/csv-table.js';
import { MISSING_POLICIES, ROW_ORDER_POLICIES, type CsvTableOptions, type MissingPolicy, type RowOrderPolicy } from '../io/csv-table-options.js';

/** CSV flags as commander parses them. */
export interface CsvFlags {
  delimiter?: string;
  timeColumn?: string;
  noTime?: boolean;
  channels?: string;
  exclude?: string;
  labelColumn?: string;
  onMissing: MissingPolicy;
  order: RowOrderPolicy;
}

/** The policy for missing or non-numeric cells the commands use unless told otherwise. */
export const CLI_DEFAULT_ON_MISSING: MissingPolicy = 'hold';

/** Adds the CSV input options every offline command shares. */
export function addCsvOptions(cmd: Command, withLabel: boolean): Command {
  cmd
    .option('--delimiter <char>', "field delimiter: ',', ';', 'tab' or '|' (default: detected from the header)")
    .option('--time-column <name>', 'column holding the reading time (default: detected: time/timestamp/date/datetime/ts, or the first date-time column)')
    .option('--no-time', 'the file has no time column (rows are numbered instead)')
    .option('--channels <a,b,...>', 'channel columns, in this order (default: every numeric column except time, label and --exclude)')
    .option('--exclude <a,b,...>', 'columns never used as channels')
    .addOption(
      new Option('--on-missing <policy>', 'missing or non-numeric cells: hold (carry the last value forward), skip-row, or error').choices(MISSING_POLICIES).default(CLI_DEFAULT_ON_MISSING),
    )
    .addOption(new Option('--order <policy>', 'rows out of time order: keep, sort, or error').choices(ROW_ORDER_POLICIES).default('keep'));
  if (withLabel) cmd.option('--label-column <name>', '0/1 ground-truth column (default: detected: label/anomaly/...)');
  return cmd;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Converts parsed flags into table options; the label column is `null` (none) unless asked. */
export function csvTableOptions(flags: CsvFlags, label: 'detect' | 'none' | 'flag'): CsvTableOptions {
  const delimiter = flags.delimiter === undefined ? 'auto' : flags.delimiter === 'tab' ? '\t' : flags.delimiter;
  return {
    delimiter: delimiter as CsvTableOptions['delimiter'],
    timeColumn: flags.noTime === false ? null : flags.timeColumn,
    channels: list(flags.channels),
    exclude: list(flags.exclude),
    labelColumn: label === 'none' ? null : label === 'flag' ? flags.labelColumn : flags.labelColumn,
    onMissing: flags.onMissing,
    order: flags.order,
  };
}

/** One line per data problem the reader counted, for the command's log. */
export function describeTableIssues(t: CsvTable): string[] {
  const lines: string[] = [];
  const r = t.report;
  if (r.heldCells > 0) lines.push(`${r.heldCells} missing or non-numeric cell(s) filled with the previous value (--on-missing hold)`);
  if (r.rowsSkipped > 0) lines.push(`${r.rowsSkipped} row(s) skipped (--on-missing skip-row)`);
  for (const c of r.cellIssues) {
    const first = c.firstInvalidValue === null ? '' : `, first invalid value '${c.firstInvalidValue}'`;
    lines.push(`column '${c.column}': ${c.missing} missing, ${c.invalid} non-numeric cell(s) (lines ${c.firstLines.join(', ')}${first})`);
  }
  for (const c of r.ignoredColumns) lines.push(`column '${c.column}' not used as a channel (${c.reason})`);
  if (r.outOfOrder > 0) lines.push(`${r.outOfOrder} row(s) earlier than the row before (lines ${r.outOfOrderLines.join(', ')})`);
  if (r.duplicates > 0) lines.push(`${r.duplicates} row(s) repeat an earlier time (lines ${r.duplicateLines.join(', ')})`);
  return lines;
}
