import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import type { Box } from '../../src/core/types.js';
import { cropRegion, cropResize } from '../../src/inference/faceCrop.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { SurgicalMask } from '../../src/lab/training/SurgicalMask.js';
import { decodeImage } from '../../src/media/imageFile.js';
import { sharedPath } from '../helpers/sharedData.js';

const CLI = resolve('dist/cli/main.js');

function run(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  const lines = result.stdout.trim().split('\n');
  return { code: result.status, lines, stderr: result.stderr };
}

describe('emostream analyze (the built CLI)', () => {
  it('analyzes images and a video, reports a corrupt file on stderr, and keeps going', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'emostream-analyze-'));
    const happy = sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg');
    const truncated = join(tmp, 'truncated.jpg');
    writeFileSync(truncated, readFileSync(happy).subarray(0, 2000));
    const notAnImage = join(tmp, 'notes.png');
    writeFileSync(notAnImage, 'this is not a PNG');
    const group = sharedPath('photos', 'multi_face', 'fr_two_people.jpg');
    const video = sharedPath('video', 'fr_short_hamilton_clip.mp4');

    const { code, lines, stderr } = run(['analyze', happy, truncated, notAnImage, group, video, '--fps', '2']);

    expect(code).toBe(1); // something failed
    const errors = stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('emostream analyze:'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('truncated.jpg');
    expect(errors[0]).toContain('[IMAGE_UNREADABLE]');
    expect(errors[1]).toContain('notes.png');

    const summary = lines.at(-1);
    const records = lines.slice(0, -1).map((l) => JSON.parse(l));
    const imageRecords = records.filter((r) => r.faces && r.frame === undefined);
    const tracks = records.filter((r) => r.type === 'track');
    expect(imageRecords.map((r) => r.file)).toEqual([happy, group]);
    const [face] = imageRecords[0].faces;
    expect(face.emotion.label).toBe('happy');
    expect(Object.keys(face.emotion.scores)).toEqual([...EMOTION_LABELS]);
    expect(face.valence).toBeGreaterThan(0);
    expect(imageRecords[1].faces).toHaveLength(2);

    const frames = records.filter((r) => r.frame !== undefined);
    expect(frames.length).toBeGreaterThanOrEqual(17); // ~9.2 s at 2 fps
    expect(frames.map((r) => r.frame)).toEqual(frames.map((_, i) => i));
    expect(frames[1].tMs - frames[0].tMs).toBe(500);
    expect(frames.filter((r) => r.faces.length > 0).length / frames.length).toBeGreaterThan(0.8);
    // Tracked: faces carry their track id and smoothed label; each track ends with one summary line.
    const trackIds = new Set(frames.flatMap((r) => r.faces.map((f: { trackId: string | null }) => f.trackId)));
    trackIds.delete(null);
    expect(trackIds.size).toBeGreaterThanOrEqual(1);
    expect(trackIds.size).toBeLessThanOrEqual(8); // 1-2 people over a few shots
    expect(new Set(tracks.map((t) => t.trackId))).toEqual(trackIds);
    for (const t of tracks) {
      expect(EMOTION_LABELS).toContain(t.dominant);
      expect(Object.values(t.timeShare as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
    }

    const faces = records.reduce((n, r) => n + (r.faces?.length ?? 0), 0);
    expect(summary).toBe(`files=3 faces=${faces}`);
  });

  it('exits non-zero with one clear line for a bad argument', () => {
    const { code, stderr } = run(['analyze', 'x.jpg', '--detector', 'yolo']);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(/--detector must be one of blazeface, tiny, ssd.*\[BAD_ARGUMENT\]/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers --help: the command list, and each command its usage, options with defaults and an example', () => {
    const top = run(['--help']);
    expect(top.code).toBe(0);
    const names = top.lines.flatMap((l) => /^ {2}([a-z-]+) {2,}/.exec(l)?.[1] ?? []);
    expect(names).toEqual([
      'serve',
      'analyze',
      'evaluate',
      'bench-detect',
      'explain',
      'train',
      'convert-onnx',
      'bench',
      'bench-live',
      'soak',
    ]);
    for (const name of names) {
      const help = run([name, '--help']);
      expect(help.code, name).toBe(0);
      expect(help.lines[0], name).toMatch(new RegExp(`^usage: emostream ${name}`));
      expect(help.lines, name).toContain('options:');
      expect(
        help.lines.some((l) => /^examples?:$/.test(l)),
        name,
      ).toBe(true);
    }
    expect(run(['analyze', '--help']).lines.join('\n')).toMatch(/--emotion-model M .*\(default: emotion-cnn\)/);
    expect(run(['evaluate', '--help']).lines.join('\n')).toMatch(/--emotion-model M .*\(default: emotion-cnn\)/);
  });

  it('uses the model it is asked for', () => {
    const happy = sharedPath('photos', 'single_face_emotion_labeled', 'surprise__faceapijs_surprised.jpg');
    const { code, lines } = run([
      'analyze',
      happy,
      '--detector',
      'ssd',
      '--emotion-model',
      'faceapi',
      '--workers',
      '1',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(lines[0] as string).faces[0].emotion.label).toBe('surprise');
    expect(lines.at(-1)).toBe('files=1 faces=1');
  });

  it('fills mask on every face (the default mask head), or null with --mask-model none', async () => {
    // A photo as it is and with a mask drawn on its face (the mask head never saw either).
    const tmp = mkdtempSync(join(tmpdir(), 'emostream-mask-'));
    const path = sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg');
    const photo = await decodeImage(path);
    const runner = await ModelRunner.create({ engine: 'tfjs', backend: 'wasm' });
    const [box] = await runner.detect('blazeface', photo);
    await runner.close();
    expect(box).toBeDefined();
    const region = cropRegion(box as Box, 0.25);
    const side = Math.round(region.w);
    const face = { data: new Uint8Array(side * side * 3), width: side, height: side };
    cropResize(photo, region, side, face.data);
    const masker = SurgicalMask.load({ varied: true });
    const masked = await masker.apply(face);
    masker.dispose();
    const out = Uint8Array.from(photo.data);
    const x0 = Math.round(region.x);
    const y0 = Math.round(region.y);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const [px, py] = [x0 + x, y0 + y];
        if (px < 0 || py < 0 || px >= photo.width || py >= photo.height) continue;
        out.set(masked.data.subarray((y * side + x) * 3, (y * side + x + 1) * 3), (py * photo.width + px) * 3);
      }
    }
    const files = { plain: path, masked: join(tmp, 'masked.png') };
    await sharp(out, { raw: { width: photo.width, height: photo.height, channels: 3 } })
      .png()
      .toFile(files.masked);
    const withMask = run(['analyze', files.plain, files.masked, '--workers', '1']);
    expect(withMask.code).toBe(0);
    // the face itself: the most confident detection (a drawn mask can add a weak stray one elsewhere)
    type Face = { detScore: number; mask: { present: boolean; score: number } };
    const [plainFace, maskedFace] = withMask.lines.slice(0, 2).map((l) => {
      const faces = JSON.parse(l).faces as Face[];
      for (const f of faces) expect(f.mask).toEqual({ present: expect.any(Boolean), score: expect.any(Number) });
      return faces.reduce((a, b) => (b.detScore > a.detScore ? b : a));
    }) as [Face, Face];
    expect(plainFace.mask.present).toBe(false);
    expect(maskedFace.mask.present).toBe(true);
    expect(maskedFace.mask.score).toBeGreaterThan(plainFace.mask.score);
    const without = run(['analyze', files.masked, '--mask-model', 'none', '--workers', '1']);
    expect(JSON.parse(without.lines[0] as string).faces[0].mask).toBeNull();
  });
});
