// Records what the real models see on a real video, as a fixture for the tracking tests:
//   node scripts/record-emotion-sequence.mjs [VIDEO] [FPS] > tests/fixtures/emotion-sequence.json
// (needs `npm run build`). Per analysed frame: ts (ms from the first frame), faces with box, detScore and the seven
// probabilities in the order angry, disgust, fear, happy, sad, surprise, neutral.

import { EMOTION_LABELS } from '../dist/core/labels.js';
import { InferencePool } from '../dist/inference/InferencePool.js';
import { FileSource } from '../dist/media/FileSource.js';
import { FaceAnalyzer } from '../dist/pipeline/FaceAnalyzer.js';

const video = process.argv[2] ?? '../shared/data/video/fr_short_hamilton_clip.mp4';
const fps = Number(process.argv[3] ?? 10);
const pool = await InferencePool.create({ workers: 1 });
const analyzer = new FaceAnalyzer(pool, 'blazeface', 'human');
const source = new FileSource({ path: video, pace: 'consumer', fps });
const frames = [];
let t0;
for await (const frame of source.frames()) {
  t0 ??= frame.ts;
  const faces = await analyzer.analyze(frame);
  const r = (v) => Math.round(v * 1e4) / 1e4;
  frames.push({
    ts: Math.round(frame.ts - t0),
    faces: faces.map((f) => ({
      box: { x: r(f.box.x), y: r(f.box.y), w: r(f.box.w), h: r(f.box.h) },
      detScore: r(f.detScore),
      probs: EMOTION_LABELS.map((l) => r(f.emotion.scores[l])),
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
