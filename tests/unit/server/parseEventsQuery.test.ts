import { describe, expect, it } from 'vitest';
import { EventsFilterError, parseEventsQuery } from '../../../src/server/parseEventsQuery.js';

describe('parseEventsQuery', () => {
  it('reads comma lists and repeated parameters; no parameter means everything', () => {
    expect(parseEventsQuery('')).toEqual({
      streams: undefined,
      types: undefined,
    });
    const q = parseEventsQuery('?stream=cam-1,lobby.2&stream=x_y:z&types=face.new,face.end');
    expect([...(q.streams ?? [])]).toEqual(['cam-1', 'lobby.2', 'x_y:z']);
    expect([...(q.types ?? [])]).toEqual(['face.new', 'face.end']);
    expect([...(parseEventsQuery('types=stream.state').types ?? [])]).toEqual(['stream.state']);
  });

  it('rejects unknown parameters, unknown types, empty entries and bad ids, naming them', () => {
    const cases: Array<[string, string]> = [
      ['?streams=a', '"streams"'],
      ['?types=face.updates', '"face.updates"'],
      ['?types=dropped', '"dropped"'],
      ['?stream=a,', 'empty entry in "stream"'],
      ['?types=', 'empty entry in "types"'],
      ['?stream=a/b', '"a/b"'],
      [`?stream=${'a'.repeat(129)}`, 'bad stream id'],
      [`?stream=${Array.from({ length: 65 }, (_, i) => `s${i}`).join(',')}`, 'too many stream ids'],
    ];
    for (const [query, mention] of cases) {
      let err: unknown;
      try {
        parseEventsQuery(query);
      } catch (e) {
        err = e;
      }
      expect(err, query).toBeInstanceOf(EventsFilterError);
      expect((err as EventsFilterError).code).toBe('EVENTS_BAD_FILTER');
      expect((err as Error).message, query).toContain(mention);
    }
  });
  it('ignores the auth token a browser passes in the query (the auth gate checks it)', () => {
    expect(parseEventsQuery('?stream=cam-1&token=abc')).toEqual(parseEventsQuery('?stream=cam-1'));
  });
});
