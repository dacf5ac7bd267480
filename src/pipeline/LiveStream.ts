import { CloseOnce } from '../core/CloseOnce.js';
import type { Config } from '../core/config.js';
import type { EventBus } from '../core/EventBus.js';
import type { BusEvent, StreamState } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Source, SourceState } from '../core/source.js';
import type { Box, FaceBox, Frame } from '../core/types.js';
import type { EmotionBatcher } from '../inference/EmotionBatcher.js';
import { cropBatch } from '../inference/faceCrop.js';
import type { InferencePool } from '../inference/InferencePool.js';
import type { Metrics } from '../server/Metrics.js';
import type { TrackedFace, TrackedFaces } from '../tracking/FaceEventDecider.js';
import type { EmotionModelSpec } from './FaceAnalyzer.js';

/** How often the mask head refreshes a stream's faces (it also runs at once for a track without a score). */
const MASK_INTERVAL_MS = 1000;

export interface LiveStreamDeps {
  pool: InferencePool;
  batcher: EmotionBatcher;
  emotionModel: EmotionModelSpec;
  /** A mask head run on the same faces, when configured. */
  maskModel?: EmotionModelSpec;
  detector: string;
  analysis: Readonly<Config['analysis']>;
  tracking: TrackedFaces;
  bus: EventBus;
  metrics?: Metrics;
  logger: Logger;
}

export interface StreamInfo {
  id: string;
  name: string;
  kind: Source['kind'];
  state: SourceState;
  /** Analysed frames per second over the last few seconds. */
  fps: number;
  faces: number;
  url?: string;
}

/** The latest analysed frame and what was seen on it (for snapshots). */
export interface AnalysedFrame {
  frame: Frame;
  faces: TrackedFace[];
}

/**
 * One stream under analysis: takes the newest frame of its source at `analysis.fps`, runs the detector every
 * `detectEvery` frames (the tracker predicts the boxes in between), classifies the tracked faces through the shared
 * batcher, and publishes the tracker's events. At most one frame per stream is in flight, so under overload every
 * stream keeps its turn in the pool's FIFO queue, its analysed rate drops, and nothing queues up.
 */
export class LiveStream {
  readonly id: string;
  readonly name: string;
  readonly source: Source;
  readonly url: string | undefined;
  readonly #deps: LiveStreamDeps;
  readonly #lifecycle = new CloseOnce('LiveStream', () => this.#teardown());
  readonly #timer: NodeJS.Timeout;
  readonly #recent: number[] = [];
  #busy = false;
  #analyzed = 0;
  #busySkips = 0;
  #sinceDetect = Number.POSITIVE_INFINITY;
  #latest: AnalysedFrame | undefined;
  #current: Promise<void> = Promise.resolve();
  /** The mask head's run in flight (off the frame's path), and when the last one started (frame time). */
  #maskJob: Promise<void> | undefined;
  #lastMaskTs = Number.NEGATIVE_INFINITY;

  constructor(id: string, name: string, source: Source, deps: LiveStreamDeps, url?: string) {
    this.id = id;
    this.name = name;
    this.source = source;
    this.url = url;
    this.#deps = deps;
    source.on('state', this.#onState);
    source.on('error', this.#onError);
    this.#publish({ type: 'stream.state', streamId: id, ts: Date.now(), state: 'starting', reason: 'added' });
    this.#timer = setInterval(() => this.#tick(), 1000 / deps.analysis.fps);
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get latest(): AnalysedFrame | undefined {
    return this.#latest;
  }

  get counters() {
    const stats = this.source.stats;
    return {
      id: this.id,
      kind: this.source.kind,
      received: stats.received,
      dropped: stats.dropped + this.#busySkips,
      analyzed: this.#analyzed,
    };
  }

  info(): StreamInfo {
    const now = Date.now();
    while (this.#recent.length > 0 && (this.#recent[0] as number) < now - 5000) this.#recent.shift();
    return {
      id: this.id,
      name: this.name,
      kind: this.source.kind,
      state: this.source.state,
      fps: Math.round((this.#recent.length / 5) * 10) / 10,
      faces: this.#latest?.faces.length ?? 0,
      ...(this.url ? { url: this.url } : {}),
    };
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #tick(): void {
    if (this.source.closed) return; // ended by itself (end of a file, a failure): its state event said why
    if (this.#busy) {
      this.#busySkips++;
      return;
    }
    const frame = this.source.takeFrame();
    if (!frame) return;
    this.#busy = true;
    this.#current = this.#analyse(frame)
      .catch((err) => this.#deps.logger.warn({ err, stream: this.id }, 'frame analysis failed'))
      .finally(() => {
        this.#busy = false;
      });
  }

  async #analyse(frame: Frame): Promise<void> {
    const { pool, batcher, tracking, analysis, metrics, detector, emotionModel } = this.#deps;
    let detections: FaceBox[] | null = null;
    if (this.#sinceDetect >= analysis.detectEvery || tracking.needsDetection) {
      const t0 = performance.now();
      detections = await pool.detect(detector, frame, tracking.minDetectionScore);
      metrics?.observeInference('detect', (performance.now() - t0) / 1000);
      this.#sinceDetect = 0;
    }
    this.#sinceDetect++;
    if (this.closed) return;
    const faces = tracking.step(frame.ts, detections);
    const boxes: Box[] = faces.map((f) => f.box);
    const probs = await batcher.classify(cropBatch(frame, boxes, emotionModel.size, emotionModel.margin));
    if (this.closed) return;
    const frameInfo = { seq: frame.seq, w: frame.width, h: frame.height };
    for (const event of tracking.observe(frame.ts, frameInfo, probs)) this.#publish(event);
    this.#analyzed++;
    this.#recent.push(Date.now());
    this.#latest = { frame, faces: tracking.visible() };
    metrics?.observeFrameToEvent(Math.max(0, Date.now() - frame.ts) / 1000);
    if (detections !== null) this.#maybeRunMask(frame, faces);
  }

  /**
   * Whether a face wears a mask changes slowly, and the mask head costs more than the emotion model: it runs after a
   * detection frame's events are out, in the gap before the next frame (its scores reach the tracks when ready and
   * the next events carry them), one run at a time, at most every `MASK_INTERVAL_MS` unless a track has no mask
   * score yet.
   */
  #maybeRunMask(frame: Frame, faces: readonly { trackId: string; box: Box }[]): void {
    const { maskModel, pool, tracking, logger } = this.#deps;
    if (!maskModel || faces.length === 0 || this.#maskJob) return;
    const due = frame.ts - this.#lastMaskTs >= MASK_INTERVAL_MS;
    if (!due && faces.every((f) => tracking.hasMask(f.trackId))) return;
    this.#lastMaskTs = frame.ts;
    const ids = faces.map((f) => f.trackId);
    const crops = cropBatch(
      frame,
      faces.map((f) => f.box),
      maskModel.size,
      maskModel.margin,
    );
    this.#maskJob = pool
      .maskScores(maskModel.name, crops)
      .then((scores) => {
        if (!this.closed) tracking.observeMasks(frame.ts, ids, scores);
      })
      .catch((err) => logger.warn({ err, stream: this.id }, 'mask analysis failed'))
      .finally(() => {
        this.#maskJob = undefined;
      });
  }

  #publish(event: BusEvent): void {
    try {
      this.#deps.bus.publish(event);
    } catch (err) {
      this.#deps.logger.error({ err, stream: this.id, type: event.type }, 'event rejected by the bus');
    }
  }

  readonly #onState = (state: SourceState, reason: string) => {
    const mapped: StreamState = state;
    this.#publish({ type: 'stream.state', streamId: this.id, ts: Date.now(), state: mapped, reason });
    if (state === 'stalled' || state === 'reconnecting' || state === 'closed') {
      for (const event of this.#deps.tracking.endAll(Date.now())) this.#publish(event);
    }
  };

  readonly #onError = (err: Error) => {
    this.#deps.logger.warn({ err, stream: this.id }, 'source error');
  };

  async #teardown(): Promise<void> {
    clearInterval(this.#timer);
    await this.#current;
    await this.#maskJob;
    this.source.off('state', this.#onState);
    this.source.off('error', this.#onError);
    await this.source.close();
    for (const event of this.#deps.tracking.endAll(Date.now())) this.#publish(event);
    this.#publish({ type: 'stream.state', streamId: this.id, ts: Date.now(), state: 'closed', reason: 'removed' });
  }
}
