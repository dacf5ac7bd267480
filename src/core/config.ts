import { z } from 'zod';
import { MAX_CAMERA_URL_LENGTH } from './cameraUrl.js';

/**
 * The server's configuration: one strict schema (unknown keys are errors), parsed once at start and frozen.
 * Every field has a default, so an empty file (or none) is a valid configuration. Durations end in `Ms`.
 */
const server = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Largest request body (POST /api/analyze, POST /api/streams), bytes. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /** Origins allowed to open WebSockets besides the server's own; `*` allows any. */
    allowedOrigins: z.array(z.string()).default([]),
    /**
     * Names this server answers to besides IP literals and localhost (`emostream.lan`, or `.lan` for a suffix): a
     * request whose Host is another name is refused (HOST_FORBIDDEN), which stops DNS rebinding (docs/reliability.md).
     */
    allowedHosts: z.array(z.string().min(1).max(253)).default([]),
    /** Where cameras added through the API are kept across restarts. */
    stateFile: z.string().default('.state/cameras.json'),
    shutdownTimeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();

/** Face detectors shipped with the project (each a folder under `models/`). */
export const DETECTOR_NAMES = ['blazeface', 'tiny', 'ssd'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** tfjs backends, in the order `auto` tries them: fastest first. */
export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * Inference engines: `onnx` (ONNX Runtime, native, with the CUDA provider where its binaries are installed) and
 * `tfjs` (TensorFlow.js on one of `BACKEND_NAMES`). `auto` takes the fastest that loads (docs/models.md, "Engines").
 */
export const ENGINE_NAMES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/**
 * The models used when nothing says otherwise (server config and CLI alike). `emotion-cnn` is our CNN trained end to
 * end on FER+ (src/lab/cnn, docs/training.md: 0.864 on FER+ PublicTest, against 0.805 for our earlier `fer-head` and
 * 0.670 for `human`, at less cost per face); `mask` is our mask head (human + faceapi features, trained on real masks
 * and on faces with drawn masks: docs/training.md).
 */
export const DEFAULT_MODELS = Object.freeze({
  detector: 'blazeface' as const,
  emotion: 'emotion-cnn',
  /** A mask head name or folder; null for none. */
  mask: 'mask' as string | null,
});

const models = z
  .object({
    detector: z.enum(DETECTOR_NAMES).default(DEFAULT_MODELS.detector),
    emotion: z.string().min(1).default(DEFAULT_MODELS.emotion),
    /** A mask model name or folder; null for none. */
    mask: z.string().min(1).nullable().default(DEFAULT_MODELS.mask),
    /** The inference engine; `auto` picks the fastest that loads. */
    engine: z.enum(['auto', ...ENGINE_NAMES]).default('auto'),
    /** The tfjs backend, for models the tfjs engine runs. */
    backend: z.enum(['auto', ...BACKEND_NAMES]).default('auto'),
    /** Inference worker threads; 0 = one per core. */
    workers: z.number().int().min(0).max(64).default(0),
    /** ONNX Runtime threads per worker (intra-op); 0 = the measured default (docs/performance.md). */
    threads: z.number().int().min(0).max(64).default(0),
  })
  .strict();

const motionSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A cell of the frame's 40x30 grey thumbnail changed when its level moved by more than this (0-255). */
    cellThreshold: z.number().min(1).max(255).default(12),
    /** Motion: at least this share of the cells changed since the last detection. */
    minChangedShare: z.number().min(0).max(1).default(0.002),
    /** Without motion, the detector still runs this often (a face that appears without moving much). */
    maxIdleMs: z.number().int().min(0).default(2000),
  })
  .strict();

const reuseSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A face's crop is unchanged when its 12x12 grey thumbnail differs by at most this (mean, grey levels). */
    maxDifference: z.number().min(0).max(255).default(2),
    /** ...and its scores are reused for at most this long after they were computed. */
    maxAgeMs: z.number().int().min(0).default(1000),
  })
  .strict();

export type MotionOptions = z.infer<typeof motionSchema>;
export type ReuseOptions = z.infer<typeof reuseSchema>;

/**
 * The cross-stream batcher's defaults, chosen by measurement on ONNX Runtime (docs/performance.md, "Batching"): with
 * 16 cameras, waiting up to 20 ms for more crops held all of them at 5 fps (p95 64 ms) where 5 ms did not (p95 404 ms).
 */
export const BATCHING_DEFAULTS = { maxBatch: 16, maxWaitMs: 20 } as const;

const analysis = z
  .object({
    /** Analyzed frames per second per stream. */
    fps: z.number().positive().max(60).default(5),
    /** Run the detector every k analyzed frames (and at once when a track was just missed); 1 = every frame. */
    detectEvery: z.number().int().min(1).max(100).default(3),
    /** Width of decoded frames (height follows the aspect). */
    frameWidth: z.number().int().min(64).max(3840).default(640),
    /** Crops per emotion batch, across streams, and how long the batcher waits for more. */
    maxBatch: z.number().int().min(1).max(256).default(BATCHING_DEFAULTS.maxBatch),
    maxWaitMs: z.number().int().min(0).max(1000).default(BATCHING_DEFAULTS.maxWaitMs),
    /** Skip frames where nothing moves and no face is tracked (docs/performance.md, "Motion gate"). */
    motion: motionSchema.default(motionSchema.parse({})),
    /** Reuse a face's emotion scores while its crop stays the same (docs/performance.md, "Unchanged faces"). */
    reuse: reuseSchema.default(reuseSchema.parse({})),
  })
  .strict();

const events = z
  .object({
    /** `face.update` events per track per second, at most. */
    maxUpdatesPerSecond: z.number().positive().max(60).default(4),
    heartbeatMs: z.number().int().positive().default(30_000),
    queueLimit: z.number().int().positive().default(1000),
  })
  .strict();

const limits = z
  .object({
    maxStreams: z.number().int().positive().default(16),
    maxPublishers: z.number().int().positive().default(8),
    maxSubscribers: z.number().int().positive().default(100),
  })
  .strict();

/** A role's token: 16 or more visible ASCII characters, no spaces (a token of spaces was accepted before). */
const token = z
  .string()
  .regex(/^[\x21-\x7e]{16,}$/, 'a token is at least 16 visible ASCII characters, without spaces')
  .optional();

const auth = z
  .object({
    /** Needed to publish a webcam (`/signal`). */
    publishToken: token,
    /** Needed to subscribe to events and read streams. */
    subscribeToken: token,
    /** Needed to add and remove cameras. */
    adminToken: token,
  })
  .strict()
  .superRefine((tokens, ctx) => {
    // One token for two roles would make the roles one: whoever may subscribe could also add cameras.
    const given = Object.entries(tokens).filter(([, value]) => value !== undefined);
    for (const [i, [key, value]] of given.entries()) {
      const same = given.slice(0, i).find(([, other]) => other === value);
      if (same) ctx.addIssue({ code: 'custom', path: [key], message: `must differ from auth.${same[0]}` });
    }
  });

/** The face tracker's settings (ByteTrack-style, docs/tracking.md); defaults in `TRACKER_DEFAULTS`. */
const trackerSchema = z.object({
  /** Detections at or above this score are "high": they may start tracks (first association round). */
  highScore: z.number().min(0).max(1),
  /** Detections between this and `highScore` only extend existing tracks (ByteTrack's second round). */
  lowScore: z.number().min(0).max(1),
  /** Least IoU for a match in the first round (high-score detections, all live tracks). */
  matchIou: z.number().min(0).max(1),
  /** Least IoU for a match in the second round (low-score detections, confirmed tracks). */
  lowMatchIou: z.number().min(0).max(1),
  /** Detector hits before a tentative track is confirmed. */
  minHits: z.number().int().min(1).max(30),
  /** A confirmed track not seen by the detector for this long ends. */
  maxLostMs: z.number().int().min(0),
  /** ...and only after this many detections in a row missed it (so an overloaded, slow stream keeps its ids). */
  minMisses: z.number().int().min(1).max(100),
  /**
   * A detection whose height differs from the track's predicted height by more than this factor is not a match,
   * whatever the IoU: a face does not grow or shrink by half between two analyzed frames, but at a shot cut a
   * different face often overlaps the old box (docs/tracking.md).
   */
  maxSizeRatio: z.number().min(1),
});

/** The emotion smoother's settings (docs/tracking.md); defaults in `SMOOTHER_DEFAULTS`. */
const smootherSchema = z.object({
  /** Time constant of the moving average, ms: a step change reaches 63% after `tauMs`, at any frame rate. */
  tauMs: z.number().positive(),
  /** The new label must lead the current one by this much (in smoothed probability)... */
  margin: z.number().min(0).max(1),
  /** ...for at least this long before the label changes. */
  minHoldMs: z.number().int().min(0),
});

export type TrackerOptions = z.infer<typeof trackerSchema>;
export type SmootherOptions = z.infer<typeof smootherSchema>;

const camera = z
  .object({
    name: z.string().min(1).max(100),
    /** `rtsp://` or `rtsps://` (or a file under `files.allowDir`); longer URLs are refused (docs/reliability.md). */
    url: z.string().min(1).max(MAX_CAMERA_URL_LENGTH),
  })
  .strict();

/** Broker URL schemes the MQTT sink speaks (TCP, TLS, WebSocket, secure WebSocket). */
export const MQTT_URL_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'] as const;

function isBrokerUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (MQTT_URL_SCHEMES as readonly string[]).includes(url.protocol) && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** A topic prefix: one or more levels, no wildcards, no empty level (no leading, trailing or double slash). */
const topicPrefix = z
  .string()
  .regex(/^[^/#+]+(\/[^/#+]+)*$/, 'must be topic levels without wildcards (+, #) or empty levels');

/**
 * The MQTT sink (docs/events.md, "MQTT"): off unless this section is present. The password should come from
 * EMOSTREAM_MQTT_PASSWORD rather than the file.
 */
const mqtt = z
  .object({
    /** mqtt://, mqtts://, ws:// or wss://; a malformed URL is a config error at start. */
    url: z.string().refine(isBrokerUrl, { message: 'must be an mqtt://, mqtts://, ws:// or wss:// URL with a host' }),
    topicPrefix: topicPrefix.default('emostream'),
    /** Default: emostream-<hostname>-<pid>, unique per process. */
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    /** Retain the per-stream state and summary (availability and discovery are always retained). */
    retain: z.boolean().default(true),
    /** Publish `face.update`s too (off: only face.new, face.emotion, face.end)... */
    faceUpdates: z.boolean().default(false),
    /** ...at most one per track per this interval. */
    faceUpdateIntervalMs: z.number().int().min(100).default(1000),
    /** Per-stream summary: at most one per stream per this interval, and only when it changed. */
    summaryIntervalMs: z.number().int().min(100).default(1000),
    /** Messages waiting for the broker at most (events; the retained state is kept apart, one per topic). */
    queueLimit: z.number().int().min(10).max(1_000_000).default(1000),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    keepaliveMs: z.number().int().min(1000).max(65_535_000).default(30_000),
    /** Reconnect backoff: doubles from min to max; refused credentials retry at max. */
    reconnectMinMs: z.number().int().positive().default(1000),
    reconnectMaxMs: z.number().int().positive().default(30_000),
    homeAssistant: z
      .object({
        /** Publish Home Assistant MQTT discovery for every stream. */
        discovery: z.boolean().default(true),
        discoveryPrefix: topicPrefix.default('homeassistant'),
      })
      .strict()
      .default({ discovery: true, discoveryPrefix: 'homeassistant' }),
  })
  .strict()
  .refine((m) => m.reconnectMaxMs >= m.reconnectMinMs, {
    message: 'reconnectMaxMs must be >= reconnectMinMs',
    path: ['reconnectMaxMs'],
  });

/** Broker URL schemes of the cluster (NATS over TCP, NATS over TLS). */
export const CLUSTER_URL_SCHEMES = ['nats:', 'tls:'] as const;

/** One or more broker URLs, comma-separated (the members of a NATS cluster). */
function isClusterUrl(value: string): boolean {
  return value.split(',').every((part) => {
    try {
      const url = new URL(part.trim());
      return (CLUSTER_URL_SCHEMES as readonly string[]).includes(url.protocol) && url.hostname.length > 0;
    } catch {
      return false;
    }
  });
}

/**
 * Several `serve` nodes sharing the cameras over NATS JetStream (docs/scaling.md): off unless this section (or
 * `serve --cluster URL`) is present. Credentials better from EMOSTREAM_CLUSTER_TOKEN, EMOSTREAM_CLUSTER_USER and
 * EMOSTREAM_CLUSTER_PASSWORD, or EMOSTREAM_CLUSTER_CREDS (a .creds file).
 */
const cluster = z
  .object({
    url: z
      .string()
      .max(4096)
      .refine(isClusterUrl, { message: 'must be nats:// or tls:// URLs with a host (comma-separated)' }),
    /** Names the cluster's buckets and subjects: clusters with different names share a broker without meeting. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, _ or -')
      .default('emostream'),
    /** This node's id, unique in the cluster; default: the host name and the process id. */
    node: z
      .string()
      .regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/, 'must be 1 to 64 letters, digits, _, - or .')
      .optional(),
    /** A camera's lease: the bucket's max_age; a dead node's cameras are free again this long after its last renewal. */
    leaseMs: z.number().int().min(300).max(3_600_000).default(15_000),
    /** Leases are renewed, and the cluster looked at, this often (at most a third of leaseMs). */
    renewMs: z.number().int().min(100).default(5000),
    /** At start: `fail` (exit with CLUSTER_UNREACHABLE) or `degraded` (serve alone, keep trying) without a broker. */
    onUnreachable: z.enum(['fail', 'degraded']).default('fail'),
    connectTimeoutMs: z.number().int().positive().default(5000),
    /** Reconnect backoff: doubles from min to max. */
    reconnectMinMs: z.number().int().positive().default(250),
    reconnectMaxMs: z.number().int().positive().default(10_000),
    token: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** A NATS .creds file (JWT and NKey seed). */
    credsFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.renewMs * 3 <= c.leaseMs, {
    message: 'renewMs must be at most a third of leaseMs',
    path: ['renewMs'],
  })
  .refine((c) => c.reconnectMaxMs >= c.reconnectMinMs, {
    message: 'reconnectMaxMs must be >= reconnectMinMs',
    path: ['reconnectMaxMs'],
  });

export const configSchema = z
  .object({
    server: server.default(server.parse({})),
    models: models.default(models.parse({})),
    analysis: analysis.default(analysis.parse({})),
    events: events.default(events.parse({})),
    limits: limits.default(limits.parse({})),
    auth: auth.default({}),
    /** A folder from which `file` streams may be added through the API; none by default. */
    files: z
      .object({ allowDir: z.string().min(1).optional() })
      .strict()
      .default({}),
    webrtc: z
      .object({ iceServers: z.array(z.object({ urls: z.union([z.string(), z.array(z.string())]) }).passthrough()) })
      .strict()
      .default({ iceServers: [] }),
    /** Tracker and smoother settings (docs/tracking.md); unset ones keep their measured defaults. */
    tracking: trackerSchema.extend(smootherSchema.shape).partial().strict().default({}),
    cameras: z.array(camera).default([]),
    /** The MQTT sink; absent = off. */
    mqtt: mqtt.optional(),
    /** Several nodes sharing the cameras over NATS JetStream; absent = this server alone. */
    cluster: cluster.optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type CameraConfig = z.infer<typeof camera>;
export type MqttConfig = z.infer<typeof mqtt>;
export type ClusterConfig = z.infer<typeof cluster>;
