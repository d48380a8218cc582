/**
 * Deferred QoS-1 acknowledgements, in arrival order, one connection at a time.
 *
 * MQTT.js handles incoming packets one at a time until `handleMessage` calls back, and sends the
 * PUBACK right then. The source lets MQTT.js go on at once (so messages batch in the pipeline)
 * but holds each PUBACK here until the message is settled (its points are durable, or it was
 * dead-lettered); then PUBACKs leave in the order their PUBLISH packets arrived, as MQTT 3.1.1 and
 * 5 (section 4.6) ask of a receiver.
 *
 * A packet id is only valid on the connection it arrived on. When a connection closes, its
 * unreleased entries are never acknowledged themselves: the broker redelivers them (DUP set, same
 * id) on the next connection of the session; a redelivery that matches a message of the closed
 * connection (id, topic and payload) is not processed again but acknowledged when the original
 * settles. A redelivery of a message whose PUBACK was written just before the connection broke
 * is recognised the same way (the last `recentCapacity` released messages are remembered, holding
 * at most `recentBytes` of payload; one that is not remembered would be processed again and
 * dead-lettered as a duplicate reading, never lost).
 */

/** One received QoS-1 message waiting for its PUBACK. */
export interface GateEntry {
  readonly messageId: number;
  readonly topic: string;
  readonly payload: Buffer;
  /** Connection this entry arrived on. */
  readonly connection: number;
  state: 'pending' | 'settled' | 'failed';
  /** The PUBACK MQTT.js wanted to send, captured when it tried. */
  puback: unknown;
  /** Redeliveries on a later connection that wait for this entry to settle. */
  dependents: GateEntry[] | null;
}

/** What {@link PubackGate.admit} decided for an arriving message. */
export interface Admission {
  readonly entry: GateEntry;
  /** True when the message is a redelivery of one already being handled or done: do not process it again. */
  readonly duplicate: boolean;
}

export class PubackGate {
  private connection = 0;
  /** Entries of the current connection, in arrival order, not yet released. */
  private queue: GateEntry[] = [];
  private head = 0;
  /** Entries of the current connection whose PUBACK is not yet captured, by id. */
  private readonly awaitingPuback = new Map<number, GateEntry>();
  /** The most recently released entries of the current connection (ring). */
  private readonly recent: (GateEntry | undefined)[];
  private recentNext = 0;
  private recentPayloadBytes = 0;
  /** Messages of the previous connection that a redelivery may match, by id. */
  private previous = new Map<number, GateEntry>();
  private counters = { admitted: 0, released: 0, redeliveries: 0, abandoned: 0 };

  constructor(
    recentCapacity = 1024,
    private readonly recentBytes = 4 * 1024 * 1024,
  ) {
    this.recent = new Array<GateEntry | undefined>(Math.max(1, recentCapacity));
  }

  /** Registers an arriving QoS-1 PUBLISH on the current connection. */
  admit(messageId: number, dup: boolean, topic: string, payload: Buffer): Admission {
    this.counters.admitted++;
    const entry: GateEntry = { messageId, topic, payload, connection: this.connection, state: 'pending', puback: null, dependents: null };
    this.queue.push(entry);
    this.awaitingPuback.set(messageId, entry);
    if (!dup) return { entry, duplicate: false };
    const original = this.previous.get(messageId);
    if (original === undefined || original.state === 'failed' || original.topic !== topic || !original.payload.equals(payload)) return { entry, duplicate: false };
    this.previous.delete(messageId);
    this.counters.redeliveries++;
    if (original.state === 'settled') entry.state = 'settled';
    else (original.dependents ??= []).push(entry);
    return { entry, duplicate: true };
  }

  /**
   * Captures the PUBACK MQTT.js is about to send for `messageId`. Returns false when the gate does
   * not hold that id (then MQTT.js should send it itself).
   */
  capture(messageId: number, puback: unknown): boolean {
    const entry = this.awaitingPuback.get(messageId);
    if (entry === undefined) return false;
    this.awaitingPuback.delete(messageId);
    entry.puback = puback;
    return true;
  }

  /** Marks a message handled (`ok`) or failed (never acknowledged; the broker redelivers it after a reconnect). */
  settle(entry: GateEntry, ok: boolean): void {
    if (entry.state !== 'pending') return;
    entry.state = ok ? 'settled' : 'failed';
    const deps = entry.dependents;
    entry.dependents = null;
    if (deps !== null) for (const d of deps) this.settle(d, ok);
  }

  /**
   * The PUBACKs that may leave now: those of the longest settled prefix of the current
   * connection's arrivals (failed entries are skipped). Call after settling, while connected.
   */
  release(): unknown[] {
    const out: unknown[] = [];
    const q = this.queue;
    while (this.head < q.length) {
      const e = q[this.head] as GateEntry;
      if (e.state === 'pending' || (e.state === 'settled' && e.puback === null)) break;
      this.head++;
      if (e.state === 'settled') {
        out.push(e.puback);
        this.counters.released++;
        this.remember(e);
      }
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts a released entry in the ring, within the payload byte budget. */
  private remember(e: GateEntry): void {
    const old = this.recent[this.recentNext];
    if (old !== undefined) this.recentPayloadBytes -= old.payload.length;
    this.recent[this.recentNext] = undefined;
    if (this.recentPayloadBytes + e.payload.length > this.recentBytes) return;
    this.recent[this.recentNext] = e;
    this.recentPayloadBytes += e.payload.length;
    this.recentNext = (this.recentNext + 1) % this.recent.length;
  }

  /**
   * The connection closed: its unreleased entries will not be acknowledged on another connection;
   * they and the recently released ones become candidates for matching redeliveries.
   */
  connectionClosed(): void {
    const previous = new Map<number, GateEntry>();
    for (const e of this.recent) if (e !== undefined) previous.set(e.messageId, e);
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i] as GateEntry;
      previous.set(e.messageId, e);
      this.counters.abandoned++;
    }
    this.previous = previous;
    this.queue = [];
    this.head = 0;
    this.awaitingPuback.clear();
    this.recent.fill(undefined);
    this.recentNext = 0;
    this.recentPayloadBytes = 0;
    this.connection++;
  }

  /** A new connection is up; without a resumed session nothing will be redelivered. */
  connected(sessionPresent: boolean): void {
    if (!sessionPresent) this.previous.clear();
  }

  /** Entries of the current connection not yet released. */
  get held(): number {
    return this.queue.length - this.head;
  }

  stats(): { admitted: number; released: number; redeliveries: number; abandoned: number; held: number } {
    return { ...this.counters, held: this.held };
  }
}
