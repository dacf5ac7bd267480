import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTOR_NAMES } from '../../../src/core/config.js';
import { EMOTION_LABELS } from '../../../src/core/labels.js';
import { labelPermutation, resolveModel } from '../../../src/inference/modelManifest.js';

describe('model manifests', () => {
  it('every shipped model resolves to files that exist inside its npm package', () => {
    for (const name of [...DETECTOR_NAMES, 'human', 'faceapi']) {
      const model = resolveModel(name);
      expect(model.manifest.name).toBe(name);
      expect(model.files.length).toBeGreaterThan(0);
      expect(model.files[0]).toContain('node_modules/@vladmandic/');
    }
  });

  it('maps face-api label order onto ours', () => {
    const perm = labelPermutation(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    expect(perm.map((i) => EMOTION_LABELS[i])).toEqual([
      'neutral',
      'happy',
      'sad',
      'angry',
      'fear',
      'disgust',
      'surprise',
    ]);
  });

  it('refuses label lists that are unknown or incomplete', () => {
    expect(() => labelPermutation(['happy', 'sad', 'angry', 'fear', 'disgust', 'surprise', 'bored'])).toThrow(/bored/);
    expect(() => labelPermutation(['happy', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'])).toThrow(/cover/);
  });

  it('gives stable codes for unknown models and broken manifests', () => {
    expect(() => resolveModel('nope')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
    expect(() => resolveModel('../../etc')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
    const dir = mkdtempSync(join(tmpdir(), 'emostream-manifest-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ name: 'x', kind: 'emotion', surprise: 1 }));
    expect(() => resolveModel(dir)).toThrow(expect.objectContaining({ code: 'MODEL_MANIFEST_INVALID' }));
  });
});
