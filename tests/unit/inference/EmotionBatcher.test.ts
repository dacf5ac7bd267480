import { describe, expect, it } from 'vitest';
import { EmotionBatcher } from '../../../src/inference/EmotionBatcher.js';
import type { CropJob, FaceRegions } from '../../../src/inference/faceCrop.js';

const FRAME = { data: new Uint8Array(12), width: 2, height: 2 };
const SPEC = { name: 'fake', size: 2, margin: 0.25 };

/** Faces of one frame whose box's x identifies them; the fake model answers each with a row holding that id. */
function crops(...ids: number[]): FaceRegions {
  return { image: FRAME, boxes: ids.map((x) => ({ x, y: 0, w: 1, h: 1 })) };
}

function fakeModel() {
  const batches: number[][] = [];
  const classify = async (_model: string, job: CropJob) => {
    expect(job).toMatchObject({ size: 2, margin: 0.25 });
    const ids = job.faces.flatMap((f) => f.boxes.map((b) => b.x));
    batches.push(ids);
    return ids.map((id) => Float32Array.of(id, 0, 0, 0, 0, 0, 0));
  };
  return { classify, batches };
}

const ids = (rows: Float32Array[]) => rows.map((r) => r[0]);

describe('EmotionBatcher', () => {
  it('sends a batch when it holds maxBatch crops, and gives each caller its own rows in order', async () => {
    const model = fakeModel();
    const batcher = new EmotionBatcher(model, SPEC, { maxBatch: 4, maxWaitMs: 10_000 });
    const a = batcher.classify(crops(1, 2));
    const b = batcher.classify(crops(3));
    const c = batcher.classify(crops(4, 5));
    expect(ids(await a)).toEqual([1, 2]);
    expect(ids(await b)).toEqual([3]);
    expect(model.batches[0]).toEqual([1, 2, 3]); // 3 + 2 would exceed 4: the third request waits
    batcher.classify(crops(6, 7));
    expect(ids(await c)).toEqual([4, 5]);
    expect(model.batches[1]).toEqual([4, 5, 6, 7]);
    await batcher.close();
  });

  it('sends a partial batch after maxWaitMs', async () => {
    const model = fakeModel();
    const batcher = new EmotionBatcher(model, SPEC, { maxBatch: 32, maxWaitMs: 20 });
    const t0 = performance.now();
    expect(ids(await batcher.classify(crops(9)))).toEqual([9]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    expect(model.batches).toEqual([[9]]);
    await batcher.close();
  });

  it('with maxBatch 1 every request goes at once, alone', async () => {
    const model = fakeModel();
    const batcher = new EmotionBatcher(model, SPEC, { maxBatch: 1, maxWaitMs: 10_000 });
    const results = await Promise.all([batcher.classify(crops(1)), batcher.classify(crops(2, 3))]);
    expect(results.map(ids)).toEqual([[1], [2, 3]]);
    expect(model.batches).toEqual([[1], [2, 3]]);
  });

  it('a failing batch rejects only its own callers; close drains what waits and refuses new work', async () => {
    let fail = true;
    const batcher = new EmotionBatcher(
      {
        classify: async (_model, job) => {
          if (fail) throw new Error('model failed');
          return job.faces.flatMap((f) => f.boxes.map(() => new Float32Array(7)));
        },
      },
      SPEC,
      { maxBatch: 2, maxWaitMs: 10_000 },
    );
    const failed = batcher.classify(crops(1, 2));
    await expect(failed).rejects.toThrow('model failed');
    fail = false;
    const waiting = batcher.classify(crops(3)); // below maxBatch: only close() sends it
    await batcher.close();
    expect(await waiting).toHaveLength(1);
    expect(() => batcher.classify(crops(4))).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(batcher.stats.batches).toBe(2);
  });
});
