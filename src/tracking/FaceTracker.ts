import type { TrackerOptions } from '../core/config.js';
import { iou } from '../core/geometry.js';
import type { Box, FaceBox } from '../core/types.js';
import { solveAssignment } from './hungarian.js';
import { KalmanBoxFilter } from './KalmanBoxFilter.js';

/** Defaults, chosen on recorded and synthetic sequences (docs/tracking.md). */
export const TRACKER_DEFAULTS: Readonly<TrackerOptions> = Object.freeze({
  highScore: 0.6,
  lowScore: 0.3,
  matchIou: 0.2,
  lowMatchIou: 0.5,
  minHits: 2,
  maxLostMs: 1500,
  minMisses: 2,
  maxSizeRatio: 1.5,
});

export type { TrackerOptions };

export type TrackStatus = 'tentative' | 'confirmed' | 'lost';

export interface Track {
  readonly id: string;
  status: TrackStatus;
  /** The filter's current box (predicted, or corrected by the last detection). */
  box: Box;
  /** Score of the last matched detection. */
  score: number;
  hits: number;
  /** Detections in a row that missed it. */
  misses: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TrackerStep {
  /** Tracks to analyze on this frame: confirmed and tentative (not lost), with their current boxes. */
  active: Track[];
  /** Tracks confirmed on this step. */
  confirmed: Track[];
  /** Confirmed tracks that ended on this step (lost for longer than `maxLostMs`). */
  ended: Track[];
  /** Confirmed tracks the detector missed on this step. */
  missed: Track[];
}

interface Internal extends Track {
  filter: KalmanBoxFilter;
  predictedAt: number;
}

/**
 * A ByteTrack-style multi-object tracker for one stream: Kalman-predicted boxes, IoU association solved optimally
 * (Hungarian), high-score detections first, then low-score ones for the confirmed tracks left; tentative tracks are
 * confirmed after `minHits` and dropped at their first miss; confirmed tracks survive misses for `maxLostMs`.
 * Pure: time comes in as arguments (ms). Ids are `${streamId}/${n}`.
 */
export class FaceTracker {
  readonly #streamId: string;
  readonly #options: TrackerOptions;
  #tracks: Internal[] = [];
  #next = 1;

  constructor(streamId: string, options: Partial<TrackerOptions> = {}) {
    this.#streamId = streamId;
    this.#options = { ...TRACKER_DEFAULTS, ...options };
  }

  get options(): Readonly<TrackerOptions> {
    return this.#options;
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /** A frame without detection: move every track to `ts`; nothing is counted as missed. */
  predict(ts: number): TrackerStep {
    this.#predictAll(ts);
    return { active: this.#active(), confirmed: [], ended: [], missed: [] };
  }

  /** A frame with detections at `ts`. */
  update(ts: number, detections: readonly FaceBox[]): TrackerStep {
    const o = this.#options;
    this.#predictAll(ts);
    const high = detections.filter((d) => d.score >= o.highScore);
    const low = detections.filter((d) => d.score >= o.lowScore && d.score < o.highScore);

    const matched = new Set<Internal>();
    const firstRound = associate(this.#tracks, high, o.matchIou, o.maxSizeRatio);
    for (const [track, det] of firstRound.pairs) this.#hit(track, det, ts, matched);
    const leftConfirmed = firstRound.unmatchedTracks.filter((t) => t.status !== 'tentative');
    const secondRound = associate(leftConfirmed, low, o.lowMatchIou, o.maxSizeRatio);
    for (const [track, det] of secondRound.pairs) this.#hit(track, det, ts, matched);

    const confirmed: Track[] = [];
    for (const track of matched) {
      if (track.status === 'tentative' && track.hits >= o.minHits) {
        track.status = 'confirmed';
        confirmed.push(track);
      } else if (track.status === 'lost') {
        track.status = 'confirmed';
      }
    }
    const ended: Track[] = [];
    const missed: Track[] = [];
    this.#tracks = this.#tracks.filter((track) => {
      if (matched.has(track)) return true;
      if (track.status === 'tentative') return false; // a one-off detection never becomes a track
      track.misses++;
      if (ts - track.lastSeen > o.maxLostMs && track.misses >= o.minMisses) {
        ended.push(track);
        return false;
      }
      track.status = 'lost';
      missed.push(track);
      return true;
    });
    for (const det of firstRound.unmatchedDetections) {
      const track = this.#start(det, ts);
      if (o.minHits <= 1) {
        track.status = 'confirmed';
        confirmed.push(track);
      }
    }
    return { active: this.#active(), confirmed, ended, missed };
  }

  /** Ends every confirmed track now (the stream stopped or stalled); returns them. */
  endAll(): Track[] {
    const ended = this.#tracks.filter((t) => t.status !== 'tentative');
    this.#tracks = [];
    return ended;
  }

  #active(): Track[] {
    return this.#tracks.filter((t) => t.status !== 'lost');
  }

  #predictAll(ts: number): void {
    for (const track of this.#tracks) {
      track.filter.predict(ts - track.predictedAt);
      track.predictedAt = Math.max(track.predictedAt, ts);
      track.box = track.filter.box;
    }
  }

  #hit(track: Internal, det: FaceBox, ts: number, matched: Set<Internal>): void {
    track.filter.update(det);
    track.box = track.filter.box;
    track.score = det.score;
    track.hits++;
    track.misses = 0;
    track.lastSeen = ts;
    matched.add(track);
  }

  #start(det: FaceBox, ts: number): Internal {
    const filter = new KalmanBoxFilter(det);
    const track: Internal = {
      id: `${this.#streamId}/${this.#next++}`,
      status: 'tentative',
      box: filter.box,
      score: det.score,
      hits: 1,
      misses: 0,
      firstSeen: ts,
      lastSeen: ts,
      filter,
      predictedAt: ts,
    };
    this.#tracks.push(track);
    return track;
  }
}

/** Optimal IoU matching; pairs below `minIou` are not matches. */
function associate<T extends Track>(tracks: T[], detections: FaceBox[], minIou: number, maxSizeRatio: number) {
  const pairs: [T, FaceBox][] = [];
  if (tracks.length === 0 || detections.length === 0) {
    return { pairs, unmatchedTracks: tracks, unmatchedDetections: detections };
  }
  const sizeOk = (t: Track, d: FaceBox) => Math.max(t.box.h / d.h, d.h / t.box.h) <= maxSizeRatio;
  const cost = tracks.map((t) => detections.map((d) => (sizeOk(t, d) ? 1 - iou(t.box, d) : 1)));
  const assignment = solveAssignment(cost);
  const usedDetections = new Set<number>();
  const unmatchedTracks: T[] = [];
  tracks.forEach((track, i) => {
    const j = assignment[i] ?? -1;
    if (j >= 0 && 1 - ((cost[i] as number[])[j] as number) >= minIou) {
      pairs.push([track, detections[j] as FaceBox]);
      usedDetections.add(j);
    } else {
      unmatchedTracks.push(track);
    }
  });
  return { pairs, unmatchedTracks, unmatchedDetections: detections.filter((_, j) => !usedDetections.has(j)) };
}
