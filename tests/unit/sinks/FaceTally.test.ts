import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaceTally, type StreamSummary } from '../../../src/sinks/mqtt/FaceTally.js';
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

describe('docs/events.md', () => {
  it('shows the summary exactly as the sink builds it (same fields, same order)', () => {
    const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
    const block = /```json summary\n([\s\S]*?)```/.exec(doc)?.[1];
    const example = JSON.parse(block ?? '') as StreamSummary;
    const tally = new FaceTally();
    tally.apply(faceEvent('face.new', example.streamId, 1, example.ts, 'angry', -0.5));
    tally.apply(faceEvent('face.new', example.streamId, 2, example.ts, 'neutral', -0.12));
    const built = tally.summary(example.streamId);
    expect(Object.keys(example)).toEqual(Object.keys(built));
    expect(Object.keys(example.labels)).toEqual(Object.keys(built.labels));
    expect(example.labels).toEqual(built.labels);
    expect(example.faces).toBe(built.faces);
  });
});
