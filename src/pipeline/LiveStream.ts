import { CloseOnce } from '../core/CloseOnce.js';
import type { Config } from '../core/config.js';
import type { EventBus } from '../core/EventBus.js';
import { type BusEvent, clipReason, type StreamState } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Source, SourceState } from '../core/source.js';
import { stageTimes } from '../core/stageTimes.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import type { TrackedFace } from '../tracking/FaceEventDecider.js';
import { type AnalysisEngine, FrameAnalyzer, type FrameResult } from './FrameAnalyzer.js';

export interface LiveStreamDeps {
  engine: AnalysisEngine;
  analysis: Readonly<Config['analysis']>;
  tracking?: Config['tracking'];
  bus: EventBus;
  /** Told the frame-to-event latency of every analyzed frame (for metrics). */
  onFrameToEvent?: (seconds: number) => void;
  logger: Logger;
}
export interface StreamInfo {
  id: string;
  name: string;
  kind: Source['kind'];
  state: SourceState;
  /** Frames handled per second over the last few seconds (analyzed, or skipped by the motion gate). */
  fps: number;
  faces: number;
  url?: string;
}

/** The latest analyzed frame and what was seen on it (for snapshots). */
export interface AnalyzedFrame {
  frame: Frame;
  faces: TrackedFace[];
}

export interface LiveStreamEvents {
  /**
   * A frame was analyzed (its faces and events; the events are on the bus already). The frame's pixels may be reused
   * once the next frame is analyzed: copy them to keep them.
   */
  analyzed: (result: FrameResult) => void;
  /**
   * The stream is closed: by its owner, or by itself because its source ended (a file that failed, a WebRTC peer
   * that left). Its one `stream.state closed` is on the bus. The owner forgets it here.
   */
  closed: (reason: string) => void;
}

/**
 * One stream under live analysis, the per-stream scheduler: when its source has a new frame (sources drop frames beyond
 * `analysis.fps` inside ffmpeg) and the last one started at least a period ago, it takes the newest frame, runs it
 * through the stream's frame step (`FrameAnalyzer`) and publishes the face events. Frames are analyzed as they
 * arrive, not on a timer of their own, so they wait for nothing but the work before them. At most one frame per
 * stream is in flight: under overload every stream keeps its turn in the pool's FIFO queue, its analyzed rate drops,
 * the source's one-frame slot drops the rest (counted), and nothing queues up.
 */
export class LiveStream extends TypedEmitter<LiveStreamEvents> {
  readonly id: string;
  readonly name: string;
  readonly source: Source;
  readonly url: string | undefined;
  readonly #deps: LiveStreamDeps;
  readonly #analyzer: FrameAnalyzer;
  readonly #lifecycle = new CloseOnce('LiveStream', () => this.#teardown());
  /** Frames start at least this far apart (a little under the period: arrivals jitter). */
  readonly #minGapMs: number;
  #wait: NodeJS.Timeout | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  readonly #recent: number[] = [];
  #busy = false;
  #analyzed = 0;
  #skipped = 0;
  #detections = 0;
  #classified = 0;
  #reused = 0;
  #latest: AnalyzedFrame | undefined;
  #current: Promise<void> = Promise.resolve();
  /** Why the stream ended, once its `stream.state closed` is published (exactly one per stream). */
  #closedReason: string | undefined;
  /** The reason its owner gave when closing it. */
  #closeReason = 'removed';

  constructor(id: string, name: string, source: Source, deps: LiveStreamDeps, url?: string) {
    super();
    this.id = id;
    this.name = name;
    this.source = source;
    this.url = url;
    this.#deps = deps;
    this.#analyzer = new FrameAnalyzer(id, deps.engine, {
      detectEvery: deps.analysis.detectEvery,
      tracking: deps.tracking,
      motion: deps.analysis.motion,
      reuse: deps.analysis.reuse,
    });
    this.#minGapMs = (0.9 * 1000) / deps.analysis.fps;
    source.on('state', this.#onState);
    source.on('error', this.#onError);
    source.on('frame', this.#onFrame);
    this.#publish({ type: 'stream.state', streamId: id, ts: Date.now(), state: 'starting', reason: 'added' });
    this.#onFrame(); // a frame may be waiting already
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get latest(): AnalyzedFrame | undefined {
    return this.#latest;
  }

  get counters() {
    const stats = this.source.stats;
    return {
      id: this.id,
      kind: this.source.kind,
      received: stats.received,
      dropped: stats.dropped,
      analyzed: this.#analyzed,
      skippedNoMotion: this.#skipped,
      detections: this.#detections,
      facesClassified: this.#classified,
      facesReused: this.#reused,
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

  /** Stops the stream; its `stream.state closed` says `reason` (default `removed`). */
  close(reason?: string): Promise<void> {
    if (reason !== undefined && !this.closed) this.#closeReason = reason;
    return this.#lifecycle.close();
  }

  /** A frame is waiting (or the previous one finished): start it now, or when a period has passed. */
  readonly #onFrame = (): void => {
    if (this.#busy || this.#wait || this.closed || this.source.closed) return;
    const early = this.#lastStart + this.#minGapMs - performance.now();
    if (early > 0) {
      this.#wait = setTimeout(() => {
        this.#wait = undefined;
        this.#onFrame();
      }, early);
      return;
    }
    const frame = this.source.takeFrame();
    if (!frame) return;
    this.#busy = true;
    this.#lastStart = performance.now();
    this.#current = this.#analyze(frame)
      .catch((err) => this.#deps.logger.warn({ err, stream: this.id }, 'frame analysis failed'))
      .finally(() => {
        this.#busy = false;
        this.#onFrame();
      });
  };

  /** The frame's memory goes back to its source once analyzed, unless it becomes the latest (for snapshots). */
  async #analyze(frame: Frame): Promise<void> {
    let kept = false;
    try {
      const result = await this.#analyzer.step(frame);
      if (this.closed) {
        // Closing: the teardown waits for this step, then ends the tracks. Its events go out first (unless the
        // closed event is out already), so that a track this step announced gets its face.new before its face.end.
        if (this.#closedReason === undefined) for (const event of result.events) this.#publish(event);
        return;
      }
      this.#recent.push(Date.now());
      if (result.skipped) {
        this.#skipped++;
        return;
      }
      for (const event of result.events) this.#publish(event);
      this.#analyzed++;
      if (result.detected) this.#detections++;
      this.#classified += result.classified;
      this.#reused += result.reused;
      const previous = this.#latest?.frame;
      this.#latest = { frame, faces: this.#analyzer.decider.visible() };
      kept = true;
      previous?.release?.();
      this.#deps.onFrameToEvent?.(Math.max(0, Date.now() - frame.ts) / 1000);
      this.emit('analyzed', result);
    } finally {
      if (!kept) frame.release?.();
    }
  }

  #publish(event: BusEvent): void {
    try {
      stageTimes.time('events', () => this.#deps.bus.publish(event));
    } catch (err) {
      this.#deps.logger.error({ err, stream: this.id, type: event.type }, 'event rejected by the bus');
    }
  }

  readonly #onState = (state: SourceState, reason: string) => {
    if (state === 'closed') {
      // The source ended by itself: the stream ends with it and tells its owner (issue 15: such a stream stayed in
      // the stream manager, counted against maxStreams, and its later removal made a second closed event).
      this.#publishClosed(reason);
      void this.close();
      return;
    }
    const mapped: StreamState = state;
    this.#publish({
      type: 'stream.state',
      streamId: this.id,
      ts: Date.now(),
      state: mapped,
      reason: clipReason(reason),
    });
    if (state === 'stalled' || state === 'reconnecting') {
      for (const event of this.#analyzer.endAll(Date.now())) this.#publish(event);
    }
  };

  /** Ends the tracks and publishes the stream's one `stream.state closed`. */
  #publishClosed(reason: string): void {
    if (this.#closedReason !== undefined) return;
    const closedReason = clipReason(reason);
    this.#closedReason = closedReason;
    for (const event of this.#analyzer.endAll(Date.now())) this.#publish(event);
    this.#publish({ type: 'stream.state', streamId: this.id, ts: Date.now(), state: 'closed', reason: closedReason });
  }

  readonly #onError = (err: Error) => {
    this.#deps.logger.warn({ err, stream: this.id }, 'source error');
  };

  async #teardown(): Promise<void> {
    clearTimeout(this.#wait);
    this.source.off('frame', this.#onFrame);
    await this.#current;
    this.source.off('state', this.#onState);
    this.source.off('error', this.#onError);
    await this.source.close();
    this.#latest?.frame.release?.();
    this.#publishClosed(this.#closeReason);
    this.emit('closed', this.#closedReason ?? this.#closeReason);
  }
}
