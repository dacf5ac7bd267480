import type { CandidateMessage } from '../core/signalProtocol.js';

/** What the signaling layer needs to set up a publish session. */
export interface SessionRequest {
  sdp: string;
  name?: string;
  remoteAddress?: string;
}

/**
 * A publish session as signaling sees it. The app adapts its media source (WebRtcSource) to this, so `src/signaling`
 * never imports werift or `src/media`.
 */
export interface SignalSession {
  readonly streamId: string;
  readonly answerSdp: string;
  readonly closed: boolean;
  close(): Promise<void>;
  /** Called once when the session ends on its own; the server then closes the socket (1011). */
  onClose?(listener: () => void): void;
  /** Trickle ICE; sessions without it ignore `candidate` messages (non-trickle: candidates are in the SDP). */
  addIceCandidate?(candidate: CandidateMessage['candidate']): Promise<void>;
}

/**
 * Turns an offer into a session. Reject with an `AppError` whose code is one of `SIGNAL_ERROR_CODES` (`BAD_SDP`,
 * `NO_VIDEO`, `UNSUPPORTED_CODEC`, ...) to have it sent to the client; anything else is answered as `INTERNAL`.
 */
export type SessionFactory = (request: SessionRequest) => Promise<SignalSession>;
