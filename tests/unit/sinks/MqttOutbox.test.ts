import { describe, expect, it } from 'vitest';
import { MqttOutbox, type OutMessage } from '../../../src/sinks/mqtt/MqttOutbox.js';

const event = (n: number, droppable = false): OutMessage => ({
  topic: `p/s/face/${droppable ? 'update' : 'new'}`,
  payload: String(n),
  qos: 0,
  retain: false,
  state: false,
  droppable,
});

function drain(outbox: MqttOutbox): OutMessage[] {
  const out: OutMessage[] = [];
  for (let m = outbox.next(); m; m = outbox.next()) out.push(m);
  return out;
}

describe('MqttOutbox', () => {
  it('never holds more than its limit: the oldest face.update goes first, then the oldest event, all counted', () => {
    const outbox = new MqttOutbox(5);
    outbox.pushEvent(event(1));
    for (let n = 2; n <= 6; n++) outbox.pushEvent(event(n, true)); // 6 queued: update 2 is dropped
    expect(outbox.queuedEvents).toBe(5);
    outbox.pushEvent(event(7)); // update 3 dropped
    for (let n = 8; n <= 10; n++) outbox.pushEvent(event(n)); // updates 4, 5, 6 dropped
    outbox.pushEvent(event(11)); // no update left: the oldest event (1) goes
    expect(outbox.queuedEvents).toBe(5);
    expect(outbox.dropped).toEqual({ outbox_full: 6, shutdown: 0 });
    expect(drain(outbox).map((m) => m.payload)).toEqual(['7', '8', '9', '10', '11']);
  });

  it('a burst of 100,000 events leaves exactly the limit, the non-droppable ones kept', () => {
    const outbox = new MqttOutbox(100);
    let pushed = 0;
    let most = 0;
    for (let n = 0; n < 100_000; n++) {
      outbox.pushEvent(event(n, n % 1000 !== 0)); // one face.new per thousand
      pushed++;
      most = Math.max(most, outbox.queuedEvents);
    }
    expect(most).toBe(100);
    expect(outbox.queuedEvents).toBe(100);
    expect(outbox.dropped.outbox_full).toBe(pushed - 100);
    const kept = drain(outbox);
    expect(kept.filter((m) => !m.droppable)).toHaveLength(100); // all 100 face.news survived
  });

  it('keeps the latest payload per state topic, sends it before events, and again after a reconnect', () => {
    const outbox = new MqttOutbox(10);
    outbox.setState('p/available', 'online', 1, true);
    outbox.pushEvent(event(1));
    outbox.setState('p/s/summary', '{"faces":1}', 0, true);
    outbox.setState('p/s/summary', '{"faces":2}', 0, true); // replaces the unsent one
    expect(drain(outbox).map((m) => [m.topic, m.payload])).toEqual([
      ['p/available', 'online'],
      ['p/s/summary', '{"faces":2}'],
      ['p/s/face/new', '1'],
    ]);
    outbox.setState('p/s/summary', '{"faces":2}', 0, true); // unchanged and delivered: nothing to send
    expect(outbox.next()).toBeUndefined();
    outbox.markAllStatePending(); // reconnected
    expect(drain(outbox).map((m) => m.topic)).toEqual(['p/available', 'p/s/summary']);
    expect(outbox.stateTopics).toBe(2);
  });

  it('forgets a cleared state topic once its empty payload was sent', () => {
    const outbox = new MqttOutbox(10);
    outbox.setState('p/s/state', '{"state":"live"}', 0, true);
    drain(outbox);
    outbox.setState('p/s/state', '', 1, true);
    const clear = outbox.next() as OutMessage;
    expect([clear.topic, clear.payload, clear.retain]).toEqual(['p/s/state', '', true]);
    outbox.stateSent(clear.topic, clear.payload);
    expect(outbox.stateTopics).toBe(0);
    outbox.markAllStatePending();
    expect(outbox.next()).toBeUndefined();
  });

  it('puts unconfirmed events back in front, within the limit, and counts what is left at shutdown', () => {
    const outbox = new MqttOutbox(3);
    outbox.pushEvent(event(1));
    outbox.pushEvent(event(2));
    const handed = [outbox.next() as OutMessage, outbox.next() as OutMessage];
    outbox.pushEvent(event(3));
    outbox.pushEvent(event(4));
    outbox.requeue(handed); // 1, 2, 3, 4: one too many, the oldest (1) goes
    expect(outbox.queuedEvents).toBe(3);
    expect(outbox.dropped.outbox_full).toBe(1);
    expect(outbox.discard(2)).toBe(5);
    expect(outbox.dropped).toEqual({ outbox_full: 1, shutdown: 5 });
    expect(outbox.queuedEvents).toBe(0);
  });
});
