import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { stageTimes } from '../core/stageTimes.js';

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
    const perStream = (name: string, help: string, pick: (s: StreamCounters) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['stream', 'kind'],
        registers,
        collect() {
          this.reset();
          for (const s of sources.streams()) this.inc({ stream: s.id, kind: s.kind }, pick(s));
        },
      });
    perStream('emostream_frames_received_total', 'Frames decoded from each stream', (s) => s.received);
    perStream('emostream_frames_dropped_total', 'Frames dropped (slot overwritten or stream busy)', (s) => s.dropped);
    perStream('emostream_frames_analyzed_total', 'Frames analyzed per stream', (s) => s.analyzed);
    perStream(
      'emostream_frames_skipped_no_motion_total',
      'Frames skipped by the motion gate (nothing moved, no face tracked)',
      (s) => s.skippedNoMotion,
    );
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
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('emostream_inference_queue_depth', 'Requests waiting for an inference worker', () =>
      sources.poolQueueDepth(),
    );
    gauge('emostream_batcher_queued_crops', 'Crops waiting in the emotion batcher', () => sources.batcherQueued());
    gauge('emostream_subscribers', 'Connected /events subscribers', () => sources.subscribers());
    gauge('emostream_streams', 'Streams', () => sources.streams().length);
    new Counter({
      name: 'emostream_events_dropped_total',
      help: 'face.update events dropped for slow subscribers',
      registers,
      collect() {
        this.reset();
        this.inc(sources.eventsDropped());
      },
    });
    new Counter({
      name: 'emostream_auth_refused_total',
      help: 'Requests refused for a missing or wrong token',
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        for (const [role, n] of Object.entries(sources.authRefused())) this.inc({ role }, n);
      },
    });
    new Counter({
      name: 'emostream_stage_seconds_total',
      help: 'Time spent per stage of the frame path (main thread stages and inference workers), seconds',
      labelNames: ['stage'],
      registers,
      collect() {
        this.reset();
        for (const [stage, ms] of Object.entries(stageTimes.snapshot())) this.inc({ stage }, ms / 1000);
      },
    });
    new Counter({
      name: 'emostream_inference_handoff_bytes_total',
      help: 'Bytes handed to the inference threads: shared (frames, no copy) or copied',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const { sharedBytes, copiedBytes } = sources.handOff();
        this.inc({ kind: 'shared' }, sharedBytes);
        this.inc({ kind: 'copied' }, copiedBytes);
      },
    });
    new Gauge({
      name: 'emostream_engine_info',
      help: 'The inference engine in use and its backend (ONNX Runtime provider or tfjs backend), value 1',
      labelNames: ['engine', 'backend'],
      registers,
      collect() {
        this.reset();
        const { engine, backend } = sources.engine();
        this.set({ engine, backend }, 1);
      },
    });
    new Gauge({
      name: 'emostream_model_engine_info',
      help: 'The engine each loaded model runs on, value 1',
      labelNames: ['model', 'engine'],
      registers,
      collect() {
        this.reset();
        for (const [model, engine] of Object.entries(sources.engine().models)) this.set({ model, engine }, 1);
      },
    });
    if (sources.mqtt) registerMqttMetrics(registers, sources.mqtt);
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
function registerMqttMetrics(registers: Registry[], read: () => MqttMetricsSource): void {
  new Gauge({
    name: 'emostream_mqtt_connected',
    help: 'The MQTT sink is connected to its broker (1) or not (0)',
    registers,
    collect() {
      this.set(read().state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'emostream_mqtt_state',
    help: 'The MQTT sink state (connecting, connected, disconnected, unauthorized, closed), value 1',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      this.set({ state: read().state }, 1);
    },
  });
  new Gauge({
    name: 'emostream_mqtt_outbox_queued',
    help: 'Events waiting in the MQTT outbox (bounded by mqtt.queueLimit)',
    registers,
    collect() {
      this.set(read().queued);
    },
  });
  const counter = (name: string, help: string, value: (s: MqttMetricsSource) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  counter('emostream_mqtt_published_total', 'Messages the MQTT broker took', (s) => s.published);
  counter('emostream_mqtt_connects_total', 'Successful connections to the MQTT broker', (s) => s.connects);
  new Counter({
    name: 'emostream_mqtt_dropped_total',
    help: 'MQTT messages not delivered, by cause (outbox_full: the broker was away or slow; shutdown)',
    labelNames: ['cause'],
    registers,
    collect() {
      this.reset();
      for (const [cause, n] of Object.entries(read().dropped)) this.inc({ cause }, n);
    },
  });
}
