import { describe, expect, it } from 'vitest';
import { alertMessage, fillTopic } from '../../src/io/alert-message.js';

describe('alert messages', () => {
  it('fills topic templates from device, model, kind and tags, leaving unknown names', () => {
    expect(fillTopic('alerts/{site}/{device}/{kind}/{nope}', { site: 'north', device: 'pump-1', kind: 'start' })).toBe('alerts/north/pump-1/start/{nope}');
  });

  it('builds the JSON payload with ISO times and channel names for the top channels', () => {
    const m = alertMessage(
      { kind: 'end', startMs: Date.UTC(2026, 0, 2, 3, 4, 5), endMs: Date.UTC(2026, 0, 2, 3, 4, 9), peakScore: 42.5, peakMs: Date.UTC(2026, 0, 2, 3, 4, 7), readings: 5, exceedances: 4, topChannels: [{ index: 1, share: 0.75 }, { index: 0, share: 0.2 }] },
      { device: 'pump-1', model: 'pumps', tags: { site: 'north' }, channels: ['temp', 'flow'], threshold: 4.3, topicTemplate: 'convwatch/alerts/{device}' },
    );
    expect(m.topic).toBe('convwatch/alerts/pump-1');
    expect(JSON.parse(m.payload)).toEqual({
      kind: 'end',
      device: 'pump-1',
      model: 'pumps',
      tags: { site: 'north' },
      startTime: '2026-01-02T03:04:05.000Z',
      endTime: '2026-01-02T03:04:09.000Z',
      peakScore: 42.5,
      peakTime: '2026-01-02T03:04:07.000Z',
      threshold: 4.3,
      readings: 5,
      exceedances: 4,
      topChannels: [
        { channel: 'flow', share: 0.75 },
        { channel: 'temp', share: 0.2 },
      ],
    });
  });
});
