import { describe, expect, it } from 'vitest';
import { deadLetterOf, handOver } from '../../src/stream/dead-letter.js';
import { message } from './stream-fixtures.js';

describe('handOver', () => {
  it('acknowledges at once when the sink returns nothing', () => {
    const m = message('t', 'x');
    handOver(deadLetterOf(m, 'invalid-json', 'd', 0), { deadLetter: () => {}, onCallbackError: () => {} });
    expect(m.acks).toBe(1);
  });

  it('acknowledges only after the sink promise resolves (the letter is safe)', async () => {
    const m = message('t', 'x');
    let publish: () => void = () => {};
    handOver(deadLetterOf(m, 'invalid-json', 'd', 0), { deadLetter: () => new Promise<void>((r) => (publish = r)), onCallbackError: () => {} });
    await Promise.resolve();
    expect(m.acks).toBe(0);
    publish();
    await new Promise((r) => setTimeout(r, 0));
    expect(m.acks).toBe(1);
  });

  it('reports a rejected hand-over and acknowledges all the same, so the message cannot hold the window', async () => {
    const m = message('t', 'x');
    const errors: [unknown, string][] = [];
    handOver(deadLetterOf(m, 'not-a-number', 'd', 0), { deadLetter: () => Promise.reject(new Error('broker said no')), onCallbackError: (e, where) => errors.push([e, where]) });
    await new Promise((r) => setTimeout(r, 0));
    expect(errors.map(([e, where]) => [(e as Error).message, where])).toEqual([['broker said no', 'deadLetter']]);
    expect(m.acks).toBe(1);
  });

  it('does not acknowledge when the sink throws synchronously (the message stays for redelivery)', () => {
    const m = message('t', 'x');
    const where: string[] = [];
    handOver(deadLetterOf(m, 'oversized', 'd', 0), {
      deadLetter: () => {
        throw new Error('no sink');
      },
      onCallbackError: (_e, w) => where.push(w),
    });
    expect(m.acks).toBe(0);
    expect(where).toEqual(['deadLetter']);
  });
});
