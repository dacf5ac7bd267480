import type { Registry } from 'prom-client';
import type { EventBusStats } from '../core/EventBus.js';
import type { PoolHealth } from '../inference/InferencePool.js';
import type { EventsServerStats } from './EventsServer.js';
import { type Samples, ScrapedMetrics, single } from './scrapedMetrics.js';

/** What the reliability metrics read at scrape time. */
export interface ReliabilitySources {
  bus(): EventBusStats;
  events(): EventsServerStats;
  pool(): PoolHealth;
  /** Requests refused before any work, by reason (`host`, `busy`). */
  refused(): Record<string, number>;
}

/**
 * Where data is lost or work refused, as metrics (issue 15: the bus's rejections and drops, events never sent, the
 * inference pool's workers and restarts were in no metric). Registered beside the others in the server's registry.
 */
export function registerReliabilityMetrics(registry: Registry, sources: ReliabilitySources): void {
  const scraped = new ScrapedMetrics(registry);
  const counter = (name: string, help: string, labelNames: string[], read: () => Samples) =>
    scraped.counter(name, help, labelNames, read);
  const gauge = (name: string, help: string, read: () => number) => scraped.gauge(name, help, [], () => single(read()));
  counter('emostream_bus_events_published_total', 'Events the bus accepted and handed to its sinks', [], () => [
    [{}, sources.bus().published],
  ]);
  counter(
    'emostream_bus_events_lost_total',
    'Events the bus did not deliver: failed the schema (a bug; by type), published after close, or a sink threw',
    ['reason', 'type'],
    () => {
      const bus = sources.bus();
      return [
        ...Object.entries(bus.rejected).map(([type, n]): [Record<string, string>, number] => [
          { reason: 'invalid', type },
          n,
        ]),
        [{ reason: 'after_close', type: '' }, bus.afterClose],
        [{ reason: 'sink_error', type: '' }, bus.sinkErrors],
      ];
    },
  );
  counter('emostream_bus_updates_rate_limited_total', 'face.update events held back by the per-track limit', [], () => [
    [{}, sources.bus().rateLimited],
  ]);
  counter(
    'emostream_events_not_sent_total',
    'Events not sent to a subscriber: over the size limit, or a non-update event dropped for a full queue',
    ['reason'],
    () => {
      const e = sources.events();
      return [
        [{ reason: 'oversize' }, e.oversize],
        [{ reason: 'critical_dropped' }, e.droppedCritical],
      ];
    },
  );
  counter(
    'emostream_subscribers_refused_total',
    '/events connections refused or ended: limit reached, bad filter, missed heartbeat',
    ['reason'],
    () => {
      const e = sources.events();
      return [
        [{ reason: 'limit' }, e.refused],
        [{ reason: 'bad_filter' }, e.badFilter],
        [{ reason: 'heartbeat' }, e.heartbeatTimeouts],
      ];
    },
  );
  counter(
    'emostream_requests_refused_total',
    'Requests refused before any work (host: DNS-rebinding guard; busy: TOO_BUSY)',
    ['reason'],
    () => Object.entries(sources.refused()).map(([reason, n]) => [{ reason }, n]),
  );
  gauge('emostream_inference_workers', 'Inference worker threads running', () => sources.pool().workers);
  gauge('emostream_inference_workers_wanted', 'Inference worker threads asked for', () => sources.pool().wanted);
  gauge(
    'emostream_inference_workers_exhausted',
    '1 when a worker crashed with the restart budget spent (the pool runs on fewer workers, or none)',
    () => (sources.pool().exhausted ? 1 : 0),
  );
  counter('emostream_inference_worker_restarts_total', 'Crashed inference workers replaced', [], () => [
    [{}, sources.pool().restarts],
  ]);
  counter(
    'emostream_inference_jobs_crashed_total',
    'Inference jobs failed because their worker died or none was left',
    [],
    () => [[{}, sources.pool().crashedJobs]],
  );
}
