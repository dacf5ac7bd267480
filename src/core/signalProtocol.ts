import { z } from 'zod';
import type { ErrorCode } from './errors.js';

/**
 * The `/signal` WebSocket protocol (docs/interfaces.md): a browser publishes a webcam by sending an SDP offer and gets an
 * answer with the id of the stream it created. Shared by the server and the web client (type-only import there).
 */

/** Longest SDP we accept. A Chrome offer with one video and one audio section is 4-8 KB. */
export const MAX_SDP_LENGTH = 32 * 1024;
/** Longest display name. */
export const MAX_NAME_LENGTH = 100;

export const OfferMessage = z
  .object({
    type: z.literal('offer'),
    sdp: z.string().min(1).max(MAX_SDP_LENGTH),
    name: z.string().trim().min(1).max(MAX_NAME_LENGTH).optional(),
  })
  .strict();

/** Trickle ICE candidate (optional: non-trickle is enough on a LAN). `candidate: null` means end of candidates. */
export const CandidateMessage = z
  .object({
    type: z.literal('candidate'),
    candidate: z
      .object({
        candidate: z.string().max(1024),
        sdpMid: z.string().max(64).nullable().optional(),
        sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
        usernameFragment: z.string().max(256).nullable().optional(),
      })
      .nullable(),
  })
  .strict();

export const AnswerMessage = z
  .object({
    type: z.literal('answer'),
    sdp: z.string(),
    streamId: z.string(),
  })
  .strict();

/** Stable codes of `/signal` errors; clients and tests rely on them. */
export const SIGNAL_ERROR_CODES = [
  /** The text frame is not JSON. */
  'BAD_JSON',
  /** JSON, but not a valid message (unknown `type`, missing or wrong fields, a binary frame). */
  'BAD_MESSAGE',
  /** The message is larger than the server accepts. */
  'MESSAGE_TOO_LARGE',
  /** The SDP cannot be parsed. */
  'BAD_SDP',
  /** The offer has no video section that sends to us. */
  'NO_VIDEO',
  /** The offer's video codecs do not include one we decode (VP8, H264). */
  'UNSUPPORTED_CODEC',
  /** This socket already has a session: one publish session per socket. */
  'SESSION_EXISTS',
  /** A `candidate` arrived before any session. */
  'NO_SESSION',
  /** The server is at its session limit. */
  'TOO_MANY_SESSIONS',
  /** The server runs limits.maxStreams streams already (a publish session is a stream). */
  'LIMIT_STREAMS',
  /** The session could not be set up for a reason that is not the client's fault. */
  'INTERNAL',
] as const satisfies readonly ErrorCode[];

export type SignalErrorCode = (typeof SIGNAL_ERROR_CODES)[number];

export const ErrorMessage = z
  .object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
  })
  .strict();

/** What a client may send. */
export const ClientMessage = z.discriminatedUnion('type', [OfferMessage, CandidateMessage]);
/** What the server sends. */
export const ServerMessage = z.discriminatedUnion('type', [AnswerMessage, ErrorMessage]);
/** Every message of the protocol. */
export const SignalMessage = z.discriminatedUnion('type', [
  OfferMessage,
  CandidateMessage,
  AnswerMessage,
  ErrorMessage,
]);

export type OfferMessage = z.infer<typeof OfferMessage>;
export type CandidateMessage = z.infer<typeof CandidateMessage>;
export type AnswerMessage = z.infer<typeof AnswerMessage>;
export type ErrorMessage = z.infer<typeof ErrorMessage>;
export type ClientMessage = z.infer<typeof ClientMessage>;
export type ServerMessage = z.infer<typeof ServerMessage>;
export type SignalMessage = z.infer<typeof SignalMessage>;
