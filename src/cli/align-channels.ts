import type { CsvTable } from '../io/csv-table.js';

/**
 * The table's values re-ordered into the model's channel order (`[rows, C]`).
 * @throws Error naming every channel the model needs and the file lacks.
 */
export function alignChannels(table: CsvTable, modelChannels: readonly string[]): Float32Array {
  const index = modelChannels.map((c) => table.channels.indexOf(c));
  const missing = modelChannels.filter((_, i) => index[i] === -1);
  if (missing.length > 0) {
    throw new Error(`${table.source}: the model needs channel(s) ${missing.map((m) => `'${m}'`).join(', ')} which the file does not have (it has ${table.channels.map((c) => `'${c}'`).join(', ')})`);
  }
  const C = modelChannels.length;
  const Ct = table.channels.length;
  const out = new Float32Array(table.rows * C);
  for (let t = 0; t < table.rows; t++) for (let c = 0; c < C; c++) out[t * C + c] = table.values[t * Ct + (index[c] as number)] as number;
  return out;
}
