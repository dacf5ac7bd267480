// Records what the real models see on a real video, as a fixture for the tracking tests:
//   node scripts/record-emotion-sequence.mjs [VIDEO] [FPS] > tests/fixtures/emotion-sequence.json
// (needs `npm run build`). Per analyzed frame: ts (ms from the first frame), faces with box, detScore and the seven
// probabilities in the order angry, disgust, fear, happy, sad, surprise, neutral.

import { EMOTION_LABELS } from '../dist/core/labels.js';
import { cropBatch } from '../dist/inference/faceCrop.js';
import { InferencePool } from '../dist/inference/InferencePool.js';
import { cropSpec } from '../dist/inference/modelManifest.js';
import { FileSource } from '../dist/media/FileSource.js';

const video = process.argv[2] ?? '../shared/data/video/fr_short_hamilton_clip.mp4';
const fps = Number(process.argv[3] ?? 10);
const pool = await InferencePool.create({ workers: 1 });
const human = cropSpec('human');
const source = new FileSource({ path: video, pace: 'consumer', fps });
const frames = [];
let t0;
for await (const frame of source.frames()) {
  t0 ??= frame.ts;
  // Raw detections and probabilities (not tracked, not rounded to pixels): what the tracker is fed.
  const boxes = await pool.detect('blazeface', frame);
  const probs = await pool.classify('human', cropBatch(frame, boxes, human.size, human.margin));
  const r = (v) => Math.round(v * 1e4) / 1e4;
  frames.push({
    ts: Math.round(frame.ts - t0),
    faces: boxes.map((b, i) => ({
      box: { x: r(b.x), y: r(b.y), w: r(b.w), h: r(b.h) },
      detScore: r(b.score),
      probs: Array.from(probs[i], r),
    })),
  });
}
await pool.close();
const meta = {
  video: video.split('/').pop(),
  fps,
  width: 640,
  detector: 'blazeface',
  emotionModel: 'human',
  labels: EMOTION_LABELS,
};
process.stdout.write(`${JSON.stringify({ ...meta, frames })}\n`);
