import { describe, expect, it } from 'vitest';
import { FaceTally } from '../../../src/sinks/mqtt/FaceTally.js';
import { faceEvent } from './faceEvents.js';

describe('FaceTally', () => {
  it('counts the faces present, the label most of them show and their mean valence', () => {
    const tally = new FaceTally();
    expect(tally.summary('cam')).toMatchObject({ faces: 0, dominant: null, valence: null, arousal: null });
    tally.apply(faceEvent('face.new', 'cam', 1, 100, 'happy', 0.6));
    tally.apply(faceEvent('face.new', 'cam', 2, 110, 'angry', -0.5));
    tally.apply(faceEvent('face.new', 'cam', 3, 120, 'angry', -0.4));
    const s = tally.summary('cam');
    expect(s).toMatchObject({ streamId: 'cam', ts: 120, faces: 3, dominant: 'angry', valence: -0.1 });
    expect(Object.keys(s.labels)).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    expect(s.labels).toMatchObject({ angry: 2, happy: 1, neutral: 0 });
    tally.apply(faceEvent('face.update', 'cam', 3, 130, 'happy', 0.7)); // track 3 now happy: a 2:1 tie-free lead
    expect(tally.summary('cam')).toMatchObject({ faces: 3, dominant: 'happy' });
    tally.apply(faceEvent('face.end', 'cam', 1, 140, 'happy'));
    tally.apply(faceEvent('face.end', 'cam', 3, 140, 'happy'));
    expect(tally.summary('cam')).toMatchObject({ faces: 1, dominant: 'angry', valence: -0.5, ts: 140 });
    tally.clear(150);
    expect(tally.summary('cam')).toMatchObject({ faces: 0, dominant: null, valence: null, ts: 150 });
  });

  it('breaks a tie between labels by the higher mean probability', () => {
    const tally = new FaceTally();
    tally.apply(faceEvent('face.new', 'cam', 1, 1, 'sad'));
    tally.apply(faceEvent('face.new', 'cam', 2, 1, 'surprise'));
    // Equal counts and equal scores of their own label; sad gets a little more from face 2.
    const e = faceEvent('face.update', 'cam', 2, 2, 'surprise');
    e.emotion.scores = { ...e.emotion.scores, sad: 0.1, neutral: 0 };
    tally.apply(e);
    expect(tally.summary('cam').dominant).toBe('sad');
  });

  it('stays bounded if face.ends never come', () => {
    const tally = new FaceTally(10);
    for (let n = 0; n < 1000; n++) tally.apply(faceEvent('face.new', 'cam', n, n));
    expect(tally.size).toBe(10);
  });
});
