import { describe, expect, it } from 'vitest';
import { isCsvDelimiter, sniffDelimiter } from '../../src/io/delimiter-sniff.js';

describe('sniffDelimiter', () => {
  it.each([
    [',', 'time,a,b\n1,2,3\n4,5,6\n'],
    [';', 'time;a;b\n1;2;3\n4;5;6\n'],
    ['\t', 'time\ta\tb\n1\t2\t3\n4\t5\t6\n'],
    ['|', 'time|a|b\n1|2|3\n4|5|6\n'],
  ])('finds %j', (delimiter, text) => {
    expect(sniffDelimiter(text)).toBe(delimiter);
  });

  it('is not misled by decimal commas in a semicolon file', () => {
    // Header has no comma; data rows have one per value: only ';' agrees with the header.
    expect(sniffDelimiter('time;temp;rh\n2024-01-01;21,5;40,25\n2024-01-02;22,0;41,5\n')).toBe(';');
  });

  it('ignores delimiters inside quotes, also across lines', () => {
    const text = 'a;"b,c,d";e\r\n1;"x,\ny,z";3\r\n4;"p,q,r";6\r\n';
    expect(sniffDelimiter(text)).toBe(';');
  });

  it('prefers the candidate whose count agrees with the header on most rows', () => {
    // ',' appears in the header twice but in rows irregularly; '|' is regular.
    const text = 'name, unit|value|flag\nfoo|1|0\nbar, baz|2|1\nqux|3|0\n';
    expect(sniffDelimiter(text)).toBe('|');
  });

  it('breaks ties by header count, then by , ; tab | order', () => {
    // ',' and ';' both agree everywhere; ';' splits the header into more fields.
    expect(sniffDelimiter('a;b,c;d\n1;2,3;4\n')).toBe(';');
    expect(sniffDelimiter('a;b,c\n1;2,3\n')).toBe(',');
  });

  it('reads a one-column file, and a header-only file, sensibly', () => {
    expect(sniffDelimiter('value\n1\n2\n')).toBe(',');
    expect(sniffDelimiter('a|b|c\n')).toBe('|');
    expect(sniffDelimiter('')).toBe(',');
    expect(sniffDelimiter('\n\n')).toBe(',');
  });

  it('looks at no more than maxLines lines', () => {
    // Header and first row agree with both ',' and ';' (a tie that ',' wins by order); the rows
    // after them only agree with ';'.
    const text = 'a;b,c\n1;2,3\n1;2\n1;2\n1;2\n';
    expect(sniffDelimiter(text, { maxLines: 2 })).toBe(',');
    expect(sniffDelimiter(text)).toBe(';');
    expect(() => sniffDelimiter(text, { maxLines: 0 })).toThrow(/maxLines.*0/);
  });
});

describe('isCsvDelimiter', () => {
  it('accepts the four delimiters only', () => {
    expect([',', ';', '\t', '|'].every(isCsvDelimiter)).toBe(true);
    expect([' ', ':', ',,', '', 44, null].some(isCsvDelimiter)).toBe(false);
  });
});
