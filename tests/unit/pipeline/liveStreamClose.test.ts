import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/core/config.js';
import { EventBus } from '../../../src/core/EventBus.js';
import type { BusEvent } from '../../../src/core/events.js';
import { createLogger } from '../../../src/core/logger.js';
import type { Source, SourceEvents, SourceState } from '../../../src/core/source.js';
import { TypedEmitter } from '../../../src/core/TypedEmitter.js';
import type { FaceBox, Frame } from '../../../src/core/types.js';
import type { EmotionBatcher } from '../../../src/inference/EmotionBatcher.js';
import type { InferencePool } from '../../../src/inference/InferencePool.js';
import type { AnalysisEngine } from '../../../src/pipeline/FrameAnalyzer.js';
import { LiveStream } from '../../../src/pipeline/LiveStream.js';

/** A source the test feeds frame by frame. */
class FedSource extends TypedEmitter<SourceEvents> implements Source {
  readonly id = 'fed';
  readonly kind = 'file' as const;
  state: SourceState = 'live';
  closed = false;
  stats = { received: 0, dropped: 0 };
  #slot: Frame | undefined;
  #seq = 0;

  feed(): void {
    const w = 64;
    const h = 48;
    this.#slot = { data: new Uint8Array(w * h * 3), width: w, height: h, ts: 1000 + this.#seq * 200, seq: this.#seq++ };
    this.stats.received++;
    this.emit('frame');
  }

  takeFrame(): Frame | undefined {
    const f = this.#slot;
    this.#slot = undefined;
    return f;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('LiveStream closing while a frame is analysed', () => {
  it('a track announced by the last step gets its face.new before its face.end', async () => {
    /** While set, detect() says it started and waits for `gate`. */
    let held: { entered: () => void; gate: Promise<void> } | undefined;
    const face: FaceBox = { x: 10, y: 10, w: 20, h: 20, score: 0.9 };
    const pool = {
      detect: async () => {
        if (held) {
          held.entered();
          await held.gate;
        }
        return [face];
      },
    } as unknown as InferencePool;
    const batcher = {
      classify: async ({ boxes }: { boxes: unknown[] }) => boxes.map(() => Float32Array.from([0, 0, 0, 1, 0, 0, 0])),
    } as unknown as EmotionBatcher;
    const engine: AnalysisEngine = {
      pool,
      batcher,
      models: { detector: 'fake', emotion: { name: 'fake', size: 48, margin: 0 } },
    };
    const analysis = configSchema.parse({
      analysis: { detectEvery: 1, motion: { enabled: false }, reuse: { enabled: false } },
    }).analysis;
    const bus = new EventBus();
    const events: BusEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const source = new FedSource();
    const stream = new LiveStream('fed', 'fed', source, {
      engine,
      analysis,
      bus,
      logger: createLogger({ level: 'silent' }),
    });
    const analyzed = () => new Promise<void>((r) => stream.once('analyzed', () => r()));

    // One detection: a tentative track (confirmed, and announced, at its second).
    const first = analyzed();
    source.feed();
    await first;
    expect(events.filter((e) => e.type === 'face.new')).toEqual([]);

    // The second detection is in flight when the stream is closed.
    let open!: () => void;
    const entered = new Promise<void>((entered) => {
      held = { entered, gate: new Promise<void>((r) => (open = r)) };
    });
    source.feed();
    await entered;
    const closing = stream.close();
    open();
    await closing;

    const news = events.filter((e) => e.type === 'face.new').map((e) => (e as { trackId: string }).trackId);
    const ends = events.filter((e) => e.type === 'face.end').map((e) => (e as { trackId: string }).trackId);
    expect(news).toEqual(['fed/1']);
    expect(ends).toEqual(news);
    expect(events.findIndex((e) => e.type === 'face.new')).toBeLessThan(events.findIndex((e) => e.type === 'face.end'));
    expect(events.at(-1)).toMatchObject({ type: 'stream.state', state: 'closed' });
  });
});
