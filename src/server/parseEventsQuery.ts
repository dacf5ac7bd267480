/**
 * Parses and validates the query of `/events[?stream=ID[,ID]][&types=T[,T]]` into an event filter.
 * A parameter may also repeat (`?stream=a&stream=b`). Unknown parameters, empty entries, unknown types and
 * malformed stream ids are errors (`EVENTS_BAD_FILTER`) whose message names the offending part.
 */
import { ProtocolError } from '../core/errors.js';
import { BUS_EVENT_TYPES, type BusEventType, isBusEventType } from '../core/events.js';

export interface EventsQuery {
  /** Undefined: every stream. */
  streams: ReadonlySet<string> | undefined;
  /** Undefined: every type. */
  types: ReadonlySet<BusEventType> | undefined;
}

/** Stream ids: letters, digits and `._~:-`, as the server's stream manager makes them. */
const STREAM_ID = /^[A-Za-z0-9._~:-]{1,128}$/;
const MAX_STREAMS = 64;
const KNOWN_PARAMS = new Set(['stream', 'types', 'token']); // token: read by the auth gate before the upgrade

export class EventsFilterError extends ProtocolError {
  constructor(message: string) {
    super('EVENTS_BAD_FILTER', message);
  }
}

/** `search` is the raw query string (with or without the leading `?`). */
export function parseEventsQuery(search: string): EventsQuery {
  const params = new URLSearchParams(search);
  for (const key of params.keys()) {
    if (!KNOWN_PARAMS.has(key)) {
      throw new EventsFilterError(`unknown query parameter ${JSON.stringify(clip(key))} (allowed: stream, types)`);
    }
  }
  const streams = listOf(params, 'stream');
  for (const id of streams) {
    if (!STREAM_ID.test(id)) {
      throw new EventsFilterError(`bad stream id ${JSON.stringify(clip(id))} (letters, digits and ._~:- only)`);
    }
  }
  if (streams.length > MAX_STREAMS) throw new EventsFilterError(`too many stream ids (max ${MAX_STREAMS})`);
  const types = listOf(params, 'types');
  for (const type of types) {
    if (!isBusEventType(type)) {
      throw new EventsFilterError(
        `unknown event type ${JSON.stringify(clip(type))} (one of ${BUS_EVENT_TYPES.join(', ')})`,
      );
    }
  }
  return {
    streams: streams.length > 0 ? new Set(streams) : undefined,
    types: types.length > 0 ? new Set(types as BusEventType[]) : undefined,
  };
}

function listOf(params: URLSearchParams, key: string): string[] {
  const out: string[] = [];
  for (const value of params.getAll(key)) {
    for (const item of value.split(',')) {
      const trimmed = item.trim();
      if (trimmed === '') throw new EventsFilterError(`empty entry in "${key}" (expected ${key}=A[,B])`);
      out.push(trimmed);
    }
  }
  return out;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
