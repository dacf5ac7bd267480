import { Histogram, Registry } from 'prom-client';
import { stageTimes } from '../core/stageTimes.js';
import { ScrapedMetrics, single } from './scrapedMetrics.js';

/** Per-stream counters the metrics read at scrape time. */
export interface StreamCounters {
  id: string;
  kind: string;
  /** Frames decoded by the source. */
  received: number;
  /** Frames dropped: overwritten in the source's slot while the stream was busy with an earlier one. */
  dropped: number;
  analyzed: number;
  /** Frames the motion gate skipped: nothing moved and no face was tracked. */
  skippedNoMotion: number;
  /** Analyzed frames the face detector ran on (the others carried the tracks by prediction). */
  detections: number;
  /** Faces the emotion model ran on, and faces whose unchanged crop kept their scores. */
  facesClassified: number;
  facesReused: number;
}

/** The MQTT sink's counters (`MqttSink.stats`), read at scrape time. */
export interface MqttMetricsSource {
  state: string;
  connects: number;
  published: number;
  queued: number;
  dropped: Record<string, number>;
}

/** What `/metrics` reads at scrape time (gauges and counters owned by other components). */
export interface MetricsSources {
  streams(): StreamCounters[];
  engine(): { engine: string; backend: string; models: Record<string, string> };
  /** Bytes that crossed to the inference threads: shared (frames) and copied. */
  handOff(): { sharedBytes: number; copiedBytes: number };
  poolQueueDepth(): number;
  batcherQueued(): number;
  subscribers(): number;
  eventsDropped(): number;
  authRefused(): Record<string, number>;
  /** Present when the MQTT sink is configured. */
  mqtt?(): MqttMetricsSource;
}

/**
 * The Prometheus metrics of docs/architecture.md ("metrics, not logs, for rates"), in one registry served as text at
 * `/metrics`. Counters kept elsewhere are read when scraped; latencies and batch sizes are observed here.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #inference: Histogram<'op'>;
  readonly #batch: Histogram;
  readonly #frameToEvent: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const scraped = new ScrapedMetrics(this.registry);
    const perStream = (name: string, help: string, pick: (s: StreamCounters) => number) =>
      scraped.counter(name, help, ['stream', 'kind'], () =>
        sources.streams().map((s) => [{ stream: s.id, kind: s.kind }, pick(s)]),
      );
    perStream('emostream_frames_received_total', 'Frames decoded from each stream', (s) => s.received);
    perStream('emostream_frames_dropped_total', 'Frames dropped (slot overwritten or stream busy)', (s) => s.dropped);
    perStream('emostream_frames_analyzed_total', 'Frames analyzed per stream', (s) => s.analyzed);
    perStream(
      'emostream_frames_skipped_no_motion_total',
      'Frames skipped by the motion gate (nothing moved, no face tracked)',
      (s) => s.skippedNoMotion,
    );
    perStream('emostream_detections_total', 'Analyzed frames the face detector ran on', (s) => s.detections);
    perStream('emostream_faces_classified_total', 'Faces the emotion model ran on', (s) => s.facesClassified);
    perStream(
      'emostream_faces_reused_total',
      'Faces whose unchanged crop kept their last scores',
      (s) => s.facesReused,
    );
    this.#inference = new Histogram({
      name: 'emostream_inference_seconds',
      help: 'Inference latency per request (detect: one frame; classify: one batch of crops; mask: the due faces of one frame)',
      labelNames: ['op'],
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    this.#batch = new Histogram({
      name: 'emostream_batch_size',
      help: 'Crops per emotion batch',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.#frameToEvent = new Histogram({
      name: 'emostream_frame_to_event_seconds',
      help: 'From frame capture to its face events',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    scraped.gauge('emostream_inference_queue_depth', 'Requests waiting for an inference worker', [], () =>
      single(sources.poolQueueDepth()),
    );
    scraped.gauge('emostream_batcher_queued_crops', 'Crops waiting in the emotion batcher', [], () =>
      single(sources.batcherQueued()),
    );
    scraped.gauge('emostream_subscribers', 'Connected /events subscribers', [], () => single(sources.subscribers()));
    scraped.gauge('emostream_streams', 'Streams', [], () => single(sources.streams().length));
    scraped.counter('emostream_events_dropped_total', 'face.update events dropped for slow subscribers', [], () =>
      single(sources.eventsDropped()),
    );
    scraped.counter('emostream_auth_refused_total', 'Requests refused for a missing or wrong token', ['role'], () =>
      Object.entries(sources.authRefused()).map(([role, n]) => [{ role }, n]),
    );
    scraped.counter(
      'emostream_stage_seconds_total',
      'Time spent per stage of the frame path (main thread stages and inference workers), seconds',
      ['stage'],
      () => Object.entries(stageTimes.snapshot()).map(([stage, ms]) => [{ stage }, ms / 1000]),
    );
    scraped.counter(
      'emostream_inference_handoff_bytes_total',
      'Bytes handed to the inference threads: shared (frames, no copy) or copied',
      ['kind'],
      () => {
        const { sharedBytes, copiedBytes } = sources.handOff();
        return [
          [{ kind: 'shared' }, sharedBytes],
          [{ kind: 'copied' }, copiedBytes],
        ];
      },
    );
    scraped.gauge(
      'emostream_engine_info',
      'The inference engine in use and its backend (ONNX Runtime provider or tfjs backend), value 1',
      ['engine', 'backend'],
      () => {
        const { engine, backend } = sources.engine();
        return [[{ engine, backend }, 1]];
      },
    );
    scraped.gauge(
      'emostream_model_engine_info',
      'The engine each loaded model runs on, value 1',
      ['model', 'engine'],
      () => Object.entries(sources.engine().models).map(([model, engine]) => [{ model, engine }, 1]),
    );
    if (sources.mqtt) registerMqttMetrics(scraped, sources.mqtt);
  }

  observeInference(op: 'detect' | 'classify' | 'mask', seconds: number): void {
    this.#inference.observe({ op }, seconds);
  }

  observeBatch(size: number): void {
    this.#batch.observe(size);
  }

  observeFrameToEvent(seconds: number): void {
    this.#frameToEvent.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The MQTT sink's metrics (docs/events.md, "MQTT"): its state, what it published, queued and dropped. */
function registerMqttMetrics(scraped: ScrapedMetrics, read: () => MqttMetricsSource): void {
  scraped.gauge('emostream_mqtt_connected', 'The MQTT sink is connected to its broker (1) or not (0)', [], () =>
    single(read().state === 'connected' ? 1 : 0),
  );
  scraped.gauge(
    'emostream_mqtt_state',
    'The MQTT sink state (connecting, connected, disconnected, unauthorized, closed), value 1',
    ['state'],
    () => [[{ state: read().state }, 1]],
  );
  scraped.gauge(
    'emostream_mqtt_outbox_queued',
    'Events waiting in the MQTT outbox (bounded by mqtt.queueLimit)',
    [],
    () => single(read().queued),
  );
  scraped.counter('emostream_mqtt_published_total', 'Messages the MQTT broker took', [], () =>
    single(read().published),
  );
  scraped.counter('emostream_mqtt_connects_total', 'Successful connections to the MQTT broker', [], () =>
    single(read().connects),
  );
  scraped.counter(
    'emostream_mqtt_dropped_total',
    'MQTT messages not delivered, by cause (outbox_full: the broker was away or slow; shutdown)',
    ['cause'],
    () => Object.entries(read().dropped).map(([cause, n]) => [{ cause }, n]),
  );
}
