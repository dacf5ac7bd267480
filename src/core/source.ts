import type { Frame } from './types.js';

/** Where a source is in its life. `closed` is final. */
export type SourceState = 'starting' | 'live' | 'stalled' | 'reconnecting' | 'closed';

export type SourceKind = 'webrtc' | 'rtsp' | 'file';

export interface SourceStats {
  /** Frames decoded and put in the latest-frame slot. */
  received: number;
  /** Frames overwritten in the slot before a consumer took them. */
  dropped: number;
}

export interface SourceEvents {
  /** A new frame is in the slot (take it with `takeFrame()`). */
  frame: () => void;
  state: (state: SourceState, reason: string) => void;
  /** A failure the source could not hide; it carries a stable `code` (an AppError). */
  error: (err: Error) => void;
}

/**
 * The contract every media source keeps (docs/architecture.md): it turns one input into decoded RGB `Frame`s of a
 * fixed size, keeps only the newest one, never blocks, and follows the lifecycle rule.
 */
export interface Source {
  readonly id: string;
  readonly kind: SourceKind;
  readonly state: SourceState;
  readonly stats: SourceStats;
  readonly closed: boolean;
  /** Takes the newest frame, or undefined when none arrived since the last take. */
  takeFrame(): Frame | undefined;
  on<K extends keyof SourceEvents>(event: K, listener: SourceEvents[K]): unknown;
  off<K extends keyof SourceEvents>(event: K, listener: SourceEvents[K]): unknown;
  close(): Promise<void>;
}
