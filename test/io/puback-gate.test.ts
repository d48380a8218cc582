import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PubackGate, type GateEntry } from '../../src/io/puback-gate.js';

const payload = (s: string): Buffer => Buffer.from(s);

/** Admits ids 1..n on the current connection and captures their PUBACKs (named `ack<id>`). */
function admitAll(gate: PubackGate, ids: number[], dup = false): GateEntry[] {
  return ids.map((id) => {
    const { entry } = gate.admit(id, dup, 't', payload(`m${id}`));
    expect(gate.capture(id, `ack${id}`)).toBe(true);
    return entry;
  });
}

describe('PubackGate', () => {
  it('releases PUBACKs in arrival order, only once every earlier message is settled', () => {
    const gate = new PubackGate();
    const [a, b, c] = admitAll(gate, [1, 2, 3]) as [GateEntry, GateEntry, GateEntry];
    gate.settle(c, true);
    gate.settle(b, true);
    expect(gate.release()).toEqual([]);
    expect(gate.held).toBe(3);
    gate.settle(a, true);
    expect(gate.release()).toEqual(['ack1', 'ack2', 'ack3']);
    expect(gate.held).toBe(0);
    expect(gate.release()).toEqual([]);
  });

  it('does not release a settled message before MQTT.js has tried to send its PUBACK', () => {
    const gate = new PubackGate();
    const { entry } = gate.admit(7, false, 't', payload('x'));
    gate.settle(entry, true);
    expect(gate.release()).toEqual([]);
    expect(gate.capture(7, 'ack7')).toBe(true);
    expect(gate.release()).toEqual(['ack7']);
  });

  it('never acknowledges a failed message, and does not let it block later ones', () => {
    const gate = new PubackGate();
    const [a, b] = admitAll(gate, [1, 2]) as [GateEntry, GateEntry];
    gate.settle(b, true);
    gate.settle(a, false);
    expect(gate.release()).toEqual(['ack2']);
    expect(gate.stats()).toMatchObject({ released: 1, held: 0 });
  });

  it('leaves ids it does not hold to MQTT.js', () => {
    const gate = new PubackGate();
    expect(gate.capture(42, 'ack42')).toBe(false);
    admitAll(gate, [42]);
    expect(gate.capture(42, 'again')).toBe(false);
  });

  it('after a reconnect, acknowledges a still-pending message only through its redelivery, once the original settles', () => {
    const gate = new PubackGate();
    const [a] = admitAll(gate, [1]) as [GateEntry];
    gate.connectionClosed();
    gate.connected(true);
    gate.settle(a, true);
    expect(gate.release()).toEqual([]); // the old connection's packet id is never acknowledged itself
    const r = gate.admit(1, true, 't', payload('m1'));
    expect(r.duplicate).toBe(true);
    expect(r.entry.state).toBe('settled');
    gate.capture(1, 'ack1-redelivered');
    expect(gate.release()).toEqual(['ack1-redelivered']);
    expect(gate.stats()).toMatchObject({ redeliveries: 1, abandoned: 1 });
  });

  it('a redelivery that arrives while the original is still being handled waits for it', () => {
    const gate = new PubackGate();
    const [a] = admitAll(gate, [5]) as [GateEntry];
    gate.connectionClosed();
    gate.connected(true);
    const r = gate.admit(5, true, 't', payload('m5'));
    expect(r.duplicate).toBe(true);
    gate.capture(5, 'ack5b');
    expect(gate.release()).toEqual([]);
    gate.settle(a, true);
    expect(gate.release()).toEqual(['ack5b']);
  });

  it('if the original fails, its pending redelivery fails too (no PUBACK; the broker keeps the message)', () => {
    const gate = new PubackGate();
    const [a] = admitAll(gate, [5]) as [GateEntry];
    gate.connectionClosed();
    const r = gate.admit(5, true, 't', payload('m5'));
    gate.capture(5, 'ack5b');
    gate.settle(a, false);
    expect(r.entry.state).toBe('failed');
    expect(gate.release()).toEqual([]);
  });

  it('recognises a redelivery of a message whose PUBACK left just before the connection broke', () => {
    const gate = new PubackGate();
    const [a] = admitAll(gate, [9]) as [GateEntry];
    gate.settle(a, true);
    expect(gate.release()).toEqual(['ack9']);
    gate.connectionClosed();
    gate.connected(true);
    const r = gate.admit(9, true, 't', payload('m9'));
    expect(r).toMatchObject({ duplicate: true, entry: { state: 'settled' } });
  });

  it('remembers released messages within its payload byte budget only', () => {
    const gate = new PubackGate(8, 10);
    const big = gate.admit(1, false, 't', Buffer.alloc(11));
    const small = gate.admit(2, false, 't', Buffer.alloc(4));
    gate.capture(1, 'ack1');
    gate.capture(2, 'ack2');
    gate.settle(big.entry, true);
    gate.settle(small.entry, true);
    expect(gate.release()).toEqual(['ack1', 'ack2']);
    gate.connectionClosed();
    // The 11-byte payload did not fit in 10 bytes: its redelivery is processed again.
    expect(gate.admit(1, true, 't', Buffer.alloc(11)).duplicate).toBe(false);
    expect(gate.admit(2, true, 't', Buffer.alloc(4)).duplicate).toBe(true);
  });

  it('processes a redelivery again when it does not match: other payload or topic, failed original, no DUP flag, or a new session', () => {
    const make = (): { gate: PubackGate; a: GateEntry } => {
      const gate = new PubackGate();
      const [a] = admitAll(gate, [3]) as [GateEntry];
      gate.connectionClosed();
      return { gate, a };
    };
    expect(make().gate.admit(3, true, 't', payload('other')).duplicate).toBe(false);
    expect(make().gate.admit(3, true, 'other/topic', payload('m3')).duplicate).toBe(false);
    expect(make().gate.admit(3, false, 't', payload('m3')).duplicate).toBe(false);
    const failed = make();
    failed.gate.settle(failed.a, false);
    expect(failed.gate.admit(3, true, 't', payload('m3')).duplicate).toBe(false);
    const fresh = make();
    fresh.gate.connected(false);
    expect(fresh.gate.admit(3, true, 't', payload('m3')).duplicate).toBe(false);
  });

  it('property: whatever the settlement order, PUBACKs leave in arrival order and only for settled messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 1, maxLength: 60 }),
        (spec) => {
          const gate = new PubackGate();
          const ids = spec.map((_, i) => i + 1);
          const entries = admitAll(gate, ids);
          // Settle in an order given by the random keys; release after each settlement.
          const order = spec.map(([, k], i) => ({ i, k })).sort((x, y) => x.k - y.k || x.i - y.i);
          const released: unknown[] = [];
          const settled = new Set<number>();
          for (const { i } of order) {
            gate.settle(entries[i] as GateEntry, spec[i]?.[0] === true);
            settled.add(i);
            const out = gate.release();
            // Everything released so far lies in the settled prefix.
            let prefix = 0;
            while (settled.has(prefix)) prefix++;
            released.push(...out);
            expect(released).toEqual(ids.slice(0, prefix).filter((_, j) => spec[j]?.[0] === true).map((id) => `ack${id}`));
          }
          expect(gate.held).toBe(0);
        },
      ),
      { seed: 4, numRuns: 300 },
    );
  });
});
