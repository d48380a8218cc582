import { describe, expect, it } from 'vitest';
import { defaultClientId, devicePartition, fnv1a32, hostnameOrdinal, subscriptionFilters } from '../../src/config/partition.js';

describe('fnv1a32', () => {
  // Published FNV-1a 32-bit test vectors (Fowler/Noll/Vo reference, "FNV-1a 32 bit").
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['b', 0xe70c2de5],
    ['foobar', 0xbf9cf968],
  ])('%j → %s', (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });

  it('hashes the UTF-8 bytes: "é" is the bytes c3 a9', () => {
    // By hand: h = 0x811c9dc5; h = (h ^ 0xc3) * 0x01000193 mod 2^32; h = (h ^ 0xa9) * 0x01000193 mod 2^32.
    const step = (h: number, byte: number): number => Number((BigInt((h ^ byte) >>> 0) * 0x01000193n) % 2n ** 32n);
    expect(fnv1a32('é')).toBe(step(step(0x811c9dc5, 0xc3), 0xa9));
  });
});

describe('devicePartition', () => {
  it('is the hash modulo the count', () => {
    expect(devicePartition('foobar', 7)).toBe(0xbf9cf968 % 7);
    expect(devicePartition('a', 1)).toBe(0);
  });

  it('spreads many devices roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[devicePartition(`pump-${i}`, 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('refuses a count that is not a positive integer', () => {
    expect(() => devicePartition('a', 0)).toThrow('partition count must be a positive integer, got 0');
  });
});

describe('host names', () => {
  it.each([
    ['convwatch-3', 3],
    ['convwatch-12.convwatch.prod.svc.cluster.local', 12],
    ['gateway', null],
    ['convwatch-3a', null],
    ['node-1.rack-2', 1],
  ])('ordinal of %j is %s', (hostname, ordinal) => {
    expect(hostnameOrdinal(hostname)).toBe(ordinal);
  });

  it('makes a client id of safe characters', () => {
    expect(defaultClientId('gw-1', undefined)).toBe('convwatch-gw-1');
    expect(defaultClientId('Gateway #1 (lab)', 'b')).toBe('convwatch-Gateway-1-lab-b');
    expect(defaultClientId('###', undefined)).toBe('convwatch-host');
  });
});

describe('subscriptionFilters', () => {
  const subscriptions = [
    { topic: 'sensors/{device}/telemetry' },
    { topic: 'sensors/{device}/{channel}' },
    { topic: 'plant/{site}/{device}/telemetry' },
    { topic: 'sensors/{line}/telemetry-{device}' },
  ];
  it('derives one filter per distinct template filter', () => {
    expect(subscriptionFilters({ subscriptions, partition: { kind: 'none' } })).toEqual(['sensors/+/telemetry', 'sensors/+/+', 'plant/+/+/telemetry']);
  });

  it('prefixes shared subscriptions and takes explicit filters as they are', () => {
    expect(subscriptionFilters({ subscriptions, partition: { kind: 'shared', group: 'cw' } })).toEqual([
      '$share/cw/sensors/+/telemetry',
      '$share/cw/sensors/+/+',
      '$share/cw/plant/+/+/telemetry',
    ]);
    expect(subscriptionFilters({ subscriptions, partition: { kind: 'topics', filters: ['sensors/a/#', 'sensors/a/#'] } })).toEqual(['sensors/a/#']);
  });
});
