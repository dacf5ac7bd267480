/**
 * Every stable error code of the project, once: the HTTP status it answers with where it reaches an HTTP client, and
 * what it means. Callers, tests, the REST API, the WebSocket protocols and the CLI's `[CODE]` rely on the codes; the
 * messages are for people and may change. docs/errors.md lists them (a test keeps the two equal).
 */
export const ERROR_CATALOGUE = {
  // requests and arguments
  BAD_ARGUMENT: { status: 400, meaning: 'an argument, option or field has a missing or wrong value' },
  BAD_JSON: { status: 400, meaning: 'a body or message is not valid JSON' },
  BAD_URL: { status: 400, meaning: 'a camera URL is malformed, not rtsp(s)://, or a file outside files.allowDir' },
  BODY_TOO_LARGE: { status: 413, meaning: 'the request body exceeds server.maxBodyBytes' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the request body has a content type this route does not take' },
  METHOD_NOT_ALLOWED: { status: 405, meaning: 'the route exists, but not for this method' },
  NOT_FOUND: { status: 404, meaning: 'no such route, page or resource' },
  STREAM_NOT_FOUND: { status: 404, meaning: 'no stream with this id' },
  NAME_TAKEN: { status: 409, meaning: 'a stream with this name exists' },
  LIMIT_STREAMS: { status: 429, meaning: 'the server runs limits.maxStreams streams already' },
  TOO_BUSY: { status: 503, meaning: 'the server analyzes as many uploaded images as it takes at once; try again' },
  IMAGE_UNREADABLE: { status: 400, meaning: 'an image cannot be decoded (corrupt, truncated, not an image)' },
  INPUT_NOT_FOUND: { status: 404, meaning: 'an input file or folder does not exist' },
  INPUT_EMPTY: { status: 400, meaning: 'an input folder holds no usable images' },
  DATA_UNREADABLE: { status: 400, meaning: 'a data set folder or label file cannot be read' },
  DATA_EMPTY: { status: 400, meaning: 'a data set has no labelled images' },
  // access
  AUTH_REQUIRED: { status: 401, meaning: 'this role needs a token and none was given' },
  AUTH_FORBIDDEN: { status: 403, meaning: "the token given is not this role's" },
  AUTH_TOKENS_REQUIRED: { status: 500, meaning: 'bound to a non-loopback interface without all three tokens' },
  ORIGIN_FORBIDDEN: { status: 403, meaning: 'a browser WebSocket from an origin that is not allowed' },
  HOST_FORBIDDEN: { status: 403, meaning: 'the Host header names neither this server nor server.allowedHosts' },
  // the WebSocket protocols (/signal, /events)
  MESSAGE_TOO_LARGE: { status: 400, meaning: 'a WebSocket message is larger than the server accepts' },
  BAD_MESSAGE: { status: 400, meaning: 'a message is JSON but not a valid protocol message' },
  BAD_SDP: { status: 400, meaning: 'the SDP offer cannot be parsed' },
  NO_VIDEO: { status: 400, meaning: 'the offer has no video section that sends to us' },
  UNSUPPORTED_CODEC: { status: 400, meaning: 'the offer has no video codec we decode (VP8, H264)' },
  SESSION_EXISTS: { status: 409, meaning: 'this /signal socket already has a publish session' },
  NO_SESSION: { status: 409, meaning: 'a candidate arrived before any session on this socket' },
  TOO_MANY_SESSIONS: { status: 503, meaning: 'the server runs limits.maxPublishers publish sessions already' },
  EVENTS_BAD_FILTER: { status: 400, meaning: 'an /events stream or type filter is malformed' },
  EVENTS_TOO_MANY_SUBSCRIBERS: { status: 503, meaning: 'the server has limits.maxSubscribers subscribers already' },
  EVENT_INVALID: { status: 500, meaning: 'an outgoing event failed its schema (a bug, not an input)' },
  // media sources
  SOURCE_NOT_FOUND: { status: 404, meaning: 'a video file does not exist or cannot be read' },
  SOURCE_DECODE_FAILED: { status: 422, meaning: 'ffmpeg cannot decode the input (not a video, truncated)' },
  SOURCE_UNREACHABLE: { status: 502, meaning: 'the camera does not answer (connection refused, timeout, no route)' },
  SOURCE_UNAUTHORIZED: { status: 502, meaning: 'the camera refused our credentials' },
  SOURCE_START_TIMEOUT: { status: 504, meaning: 'no first frame within the start timeout' },
  SOURCE_SPAWN_FAILED: { status: 500, meaning: 'the decoder process could not be started' },
  SOURCE_PROCESS_EXITED: { status: 502, meaning: 'the decoder process exited before it was ready' },
  SOURCE_DECODER_EXITED: { status: 502, meaning: 'the decoder process died while the source ran' },
  SOURCE_INTERNAL: { status: 500, meaning: "a media source failed for a reason that is not its input's" },
  FFMPEG_NOT_FOUND: { status: 500, meaning: 'no ffmpeg: neither configured, on PATH, nor bundled' },
  WEBRTC_ICE_GATHERING: { status: 500, meaning: 'gathering our ICE candidates failed' },
  WEBRTC_CONNECT_TIMEOUT: { status: 504, meaning: 'the WebRTC peer did not connect in time' },
  WEBRTC_CONNECTION_FAILED: { status: 502, meaning: 'the WebRTC connection failed or was closed by the peer' },
  // models and inference
  MODEL_NOT_FOUND: { status: 400, meaning: 'no model of this name, or no manifest in this folder' },
  MODEL_MANIFEST_INVALID: { status: 500, meaning: 'a model manifest fails its schema' },
  MODEL_FILE_MISSING: { status: 500, meaning: 'a file a manifest names is missing' },
  MODEL_FILE_UNREADABLE: { status: 500, meaning: 'a model file cannot be read or parsed' },
  MODEL_PACKAGE_MISSING: { status: 500, meaning: 'the npm package that ships a model is not installed' },
  MODEL_WRONG_KIND: { status: 400, meaning: 'the model is of another kind (a detector where an emotion model goes)' },
  MODEL_LOAD_FAILED: { status: 500, meaning: 'a model could not be loaded' },
  HEAD_BACKBONE_MISMATCH: { status: 500, meaning: 'a head was trained on other backbone weights than installed' },
  BACKEND_UNAVAILABLE: { status: 500, meaning: 'no tfjs backend could start, or the one asked for cannot' },
  ENGINE_UNAVAILABLE: { status: 500, meaning: 'the inference engine asked for (--engine onnx) cannot load here' },
  MODEL_ENGINE_UNSUPPORTED: { status: 400, meaning: 'the model has no files for the engine asked for (no ONNX file)' },
  WORKER_MISSING: { status: 500, meaning: 'the built inference worker is missing (run npm run build)' },
  WORKER_TIMEOUT: { status: 503, meaning: 'an inference worker did not start in time' },
  WORKER_CRASHED: { status: 503, meaning: 'an inference worker died; its jobs failed' },
  WORKERS_EXHAUSTED: {
    status: 503,
    meaning: 'no inference worker is left: they crashed more often than the restart budget allows',
  },
  POOL_CLOSED: { status: 503, meaning: 'the inference pool is closed (shutting down)' },
  BATCH_MISMATCH: { status: 500, meaning: 'a model answered a batch with the wrong number of rows' },
  // sinks (the MQTT broker)
  MQTT_UNREACHABLE: { status: 502, meaning: 'the MQTT broker does not answer or dropped the connection (retrying)' },
  MQTT_UNAUTHORIZED: { status: 502, meaning: 'the MQTT broker refused our credentials (retrying slowly)' },
  MQTT_REFUSED: {
    status: 502,
    meaning: 'the MQTT broker refused the connection for another reason (client id, protocol)',
  },
  // the cluster (the NATS broker)
  CLUSTER_UNREACHABLE: {
    status: 502,
    meaning: 'the NATS broker of cluster.url does not answer, or is not a NATS server',
  },
  CLUSTER_UNAUTHORIZED: { status: 502, meaning: 'the NATS broker refused our credentials' },
  CLUSTER_NO_JETSTREAM: { status: 502, meaning: 'the NATS broker runs without JetStream (nats-server -js)' },
  CLUSTER_UNAVAILABLE: {
    status: 503,
    meaning: 'a change for the whole cluster (adding or removing a camera) while the NATS broker is unreachable',
  },
  // configuration and life cycle
  CONFIG_INVALID: { status: 500, meaning: 'the configuration has an unknown key or a wrong value' },
  CONFIG_UNREADABLE: { status: 500, meaning: 'the configuration file cannot be read' },
  INVALID_STATE: { status: 503, meaning: 'an object was used after close() (shutting down)' },
  INTERNAL: { status: 500, meaning: 'anything that is not one of ours: a bug' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The HTTP status a code answers with. */
export function httpStatus(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

/**
 * The error hierarchy. Every error that crosses a layer carries a stable `code` that callers, tests, the
 * REST API and the wire protocol rely on; the message is for people and may change.
 */
export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Bad configuration: an unknown key, a wrong type, a value out of range. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'CONFIG_INVALID', message, options);
  }
}

/** A media source failed: unreachable camera, unreadable file, decoder died. */
export class SourceError extends AppError {}

/** A model could not be found, read or initialised, or a backend could not start. */
export class ModelLoadError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'MODEL_LOAD_FAILED', message, options);
  }
}

/** Inference failed for a reason that is not the model's files: a worker that died, a pool that is closed. */
export class InferenceError extends AppError {}

/** An input (image, video, request) that cannot be processed. */
export class InputError extends AppError {}

/** A malformed or unexpected protocol message. */
export class ProtocolError extends AppError {}

/** An object used after `close()` or before it is ready. */
export class InvalidStateError extends AppError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** The error's stable code, or `INTERNAL` for anything that is not ours. */
export function errorCode(err: unknown): ErrorCode {
  return err instanceof AppError ? err.code : 'INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
