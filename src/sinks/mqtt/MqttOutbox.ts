/**
 * What the MQTT sink still has to hand to the broker, in two parts, both bounded (docs/events.md, "MQTT"):
 *
 * - **state** (availability, per-stream state and summary, discovery): the latest payload per topic, so it
 *   coalesces (a newer summary replaces an unsent older one) and is bounded by the number of topics (streams × 7
 *   + 1). Every entry is marked pending again after a (re)connect: retained state is republished, because a
 *   restarted broker may have lost it. An empty payload clears a retained topic; once sent, the topic is forgotten.
 * - **events** (face events): a FIFO of at most `limit` messages. When it is full, the oldest `face.update` goes
 *   first, then the oldest event of any kind; every drop is counted by cause.
 *
 * Pure: no I/O, no timers.
 */
export type QoS = 0 | 1 | 2;

export interface OutMessage {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
  /** A state topic (latest value wins) rather than an event. */
  state: boolean;
  /** May be dropped before other events when the queue is full (`face.update`). */
  droppable?: boolean;
}

/** Why a message was not delivered: the outbox was full; or it was still queued when the sink closed. */
export const DROP_CAUSES = ['outbox_full', 'shutdown'] as const;
export type DropCause = (typeof DROP_CAUSES)[number];

interface StateEntry {
  payload: string;
  qos: QoS;
  retain: boolean;
}

export class MqttOutbox {
  readonly limit: number;
  readonly #state = new Map<string, StateEntry>();
  /** State topics to (re)send, in the order they were marked. */
  readonly #pending = new Set<string>();
  #events: OutMessage[] = [];
  readonly #dropped: Record<DropCause, number> = { outbox_full: 0, shutdown: 0 };
  #droppableQueued = 0;

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError('limit must be >= 1');
    this.limit = limit;
  }

  /** Events waiting now. */
  get queuedEvents(): number {
    return this.#events.length;
  }

  /** State topics waiting to be (re)sent now. */
  get pendingState(): number {
    return this.#pending.size;
  }

  /** State topics remembered (what a reconnect republishes). */
  get stateTopics(): number {
    return this.#state.size;
  }

  get dropped(): Readonly<Record<DropCause, number>> {
    return { ...this.#dropped };
  }

  /** Sets a state topic's payload (`''` clears the retained message) and marks it pending. */
  setState(topic: string, payload: string, qos: QoS, retain: boolean): void {
    const prev = this.#state.get(topic);
    if (prev && prev.payload === payload && !this.#pending.has(topic)) return; // the broker has it already
    this.#state.set(topic, { payload, qos, retain });
    this.#pending.add(topic);
  }

  /** The current payload of a state topic, if any. */
  stateOf(topic: string): string | undefined {
    return this.#state.get(topic)?.payload;
  }

  /** After a (re)connect, or when Home Assistant asks again: every state topic goes out again. */
  markAllStatePending(filter: (topic: string) => boolean = () => true): void {
    for (const topic of this.#state.keys()) if (filter(topic)) this.#pending.add(topic);
  }

  /** Queues an event; when full, drops per the policy above and counts it. */
  pushEvent(message: OutMessage): void {
    this.#events.push(message);
    if (message.droppable) this.#droppableQueued++;
    this.#trim();
  }

  /** Puts back events that were handed out but not confirmed (the connection dropped), ahead of the rest. */
  requeue(messages: OutMessage[]): void {
    const events = messages.filter((m) => !m.state);
    for (const m of messages) if (m.state && this.#state.has(m.topic)) this.#pending.add(m.topic);
    if (events.length === 0) return;
    this.#events = [...events, ...this.#events];
    this.#droppableQueued += events.filter((m) => m.droppable).length;
    this.#trim();
  }

  /** The next message to send: pending state first (it is what a newcomer needs), then events in order. */
  next(): OutMessage | undefined {
    const topic = this.#pending.values().next().value;
    if (topic !== undefined) {
      this.#pending.delete(topic);
      const entry = this.#state.get(topic) as StateEntry;
      return { topic, ...entry, state: true };
    }
    const event = this.#events.shift();
    if (event?.droppable) this.#droppableQueued--;
    return event;
  }

  /** A state message reached the broker: a cleared topic (empty payload) is forgotten. */
  stateSent(topic: string, payload: string): void {
    if (payload === '' && this.#state.get(topic)?.payload === '' && !this.#pending.has(topic)) {
      this.#state.delete(topic);
    }
  }

  /** At close: whatever is still queued (plus `inFlight` unconfirmed) is dropped as `shutdown`. Returns how many. */
  discard(inFlight = 0): number {
    const n = this.#events.length + this.#pending.size + inFlight;
    this.#dropped.shutdown += n;
    this.#events = [];
    this.#droppableQueued = 0;
    this.#pending.clear();
    return n;
  }

  #trim(): void {
    while (this.#events.length > this.limit) {
      const index = this.#droppableQueued > 0 ? this.#events.findIndex((m) => m.droppable) : -1;
      const [gone] = this.#events.splice(Math.max(0, index), 1);
      if (gone?.droppable) this.#droppableQueued--;
      this.#dropped.outbox_full++;
    }
  }
}
