import { describe, expect, it } from 'vitest';
import { isMissingCell, parseLabelCell, parseNumericCell } from '../../src/io/numeric-cell.js';

describe('parseNumericCell', () => {
  it('reads decimals as float32 values', () => {
    expect(parseNumericCell('12')).toBe(12);
    expect(parseNumericCell(' -0.5 ')).toBe(-0.5);
    expect(parseNumericCell('.5')).toBe(0.5);
    expect(parseNumericCell('5.')).toBe(5);
    expect(parseNumericCell('+2.5E+04')).toBe(25000);
    expect(parseNumericCell('1e-3')).toBe(Float32Array.of(0.001)[0]);
    expect(parseNumericCell('0.1')).toBe(Float32Array.of(0.1)[0]);
    expect(parseNumericCell('3.4e38')).toBe(Float32Array.of(3.4e38)[0]);
  });

  it('calls blanks and NA tokens missing', () => {
    for (const t of ['', '   ', 'NaN', 'nan', 'NA', 'N/A', 'n/a', '#N/A', 'null', 'NULL', 'None', '<NA>', '-nan']) {
      expect(parseNumericCell(t), JSON.stringify(t)).toBe('missing');
    }
  });

  it('calls everything else invalid, including what Number() would accept', () => {
    for (const t of ['ERR', '12abc', '0x1F', '1,5', 'Infinity', '-inf', '1e39', '1 000', '--1', '1e', 'e5', '.']) {
      expect(parseNumericCell(t), JSON.stringify(t)).toBe('invalid');
    }
  });
});

describe('parseLabelCell', () => {
  it('reads 0/1 and true/false', () => {
    expect(['0', '1', '0.0', '1.0', ' 1 ', 'true', 'FALSE', 'True'].map(parseLabelCell)).toEqual([0, 1, 0, 1, 1, 1, 0, 1]);
  });
  it('calls other values invalid and blanks missing', () => {
    expect(['2', '-1', '0.5', 'yes', 'anomaly'].map(parseLabelCell)).toEqual(Array(5).fill('invalid'));
    expect(['', 'NaN', 'null'].map(parseLabelCell)).toEqual(['missing', 'missing', 'missing']);
  });
});

describe('isMissingCell', () => {
  it('is true for blanks and tokens only', () => {
    expect(isMissingCell(' NA ')).toBe(true);
    expect(isMissingCell('0')).toBe(false);
  });
});
