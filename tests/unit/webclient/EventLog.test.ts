import { describe, expect, it } from 'vitest';
import type { EventsMessage } from '../../../src/core/events.js';
import { describeMessage, EventLog, matches } from '../../../web-client/src/EventLog.js';
import { sequenceEvents } from './sequenceEvents.js';

const a = sequenceEvents('cam-a');
const b = sequenceEvents('cam-b', 1_732_233_600_050);
/** Both streams interleaved in capture-time order, plus a stream.state and a dropped notice. */
const mixed: EventsMessage[] = [...a, ...b].sort((x, y) => x.ts - y.ts);
mixed.splice(10, 0, { type: 'stream.state', streamId: 'cam-b', ts: 5, state: 'stalled', reason: 'no frames for 5 s' });
mixed.push({ type: 'dropped', count: 12 });

describe('EventLog', () => {
  it('lists newest first and keeps at most its capacity', () => {
    const log = new EventLog(50);
    for (const [i, m] of mixed.entries()) log.add(m, i);
    expect(log.size).toBe(50);
    const entries = log.entries();
    expect(entries.map((e) => e.message)).toEqual(mixed.slice(-50).reverse());
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((x, y) => y - x));
  });

  it('filters by stream and by type, together, with a limit', () => {
    const log = new EventLog(10_000);
    for (const [i, m] of mixed.entries()) log.add(m, i);
    const onlyB = log.entries({ streamId: 'cam-b' });
    expect(onlyB.length).toBe(b.length + 1);
    expect(onlyB.every((e) => 'streamId' in e.message && e.message.streamId === 'cam-b')).toBe(true);
    const newA = log.entries({ streamId: 'cam-a', type: 'face.new' });
    expect(newA.map((e) => e.message)).toEqual(a.filter((e) => e.type === 'face.new').reverse());
    expect(log.entries({ type: 'face.update' }, 7).length).toBe(7);
    expect(log.entries({ streamId: '', type: '' }).length).toBe(mixed.length);
    expect(log.streams()).toEqual(['cam-a', 'cam-b']);
    expect(log.types()).toEqual(['dropped', 'face.end', 'face.new', 'face.update', 'stream.state']);
  });

  it('a stream filter excludes messages that belong to no stream', () => {
    expect(matches({ type: 'dropped', count: 3 }, { streamId: 'cam-a' })).toBe(false);
    expect(matches({ type: 'dropped', count: 3 }, {})).toBe(true);
  });

  it('describes each kind of message in one line', () => {
    const end = a.find((e) => e.type === 'face.end');
    if (end?.type !== 'face.end') throw new Error('no face.end');
    expect(describeMessage(end)).toContain(`mostly ${end.dominant}`);
    const upd = a.find((e) => e.type === 'face.update');
    if (upd?.type !== 'face.update') throw new Error('no face.update');
    expect(describeMessage(upd)).toBe(
      `${upd.trackId} ${upd.emotion.label} ${Math.round(upd.emotion.scores[upd.emotion.label] * 100)}% valence ${upd.valence.toFixed(2)}`,
    );
    expect(describeMessage({ ...upd, type: 'face.emotion', from: 'sad', to: 'happy' })).toBe(
      `${upd.trackId} sad → happy`,
    );
    expect(describeMessage({ type: 'error', code: 'EVENTS_BAD_FILTER', message: 'bad' })).toBe(
      'EVENTS_BAD_FILTER: bad',
    );
  });
});
