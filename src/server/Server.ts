import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ClusterNode } from '../cluster/ClusterNode.js';
import { CloseOnce } from '../core/CloseOnce.js';
import type { Config } from '../core/config.js';
import { EventBus } from '../core/EventBus.js';
import { facesInSource } from '../core/faceRecord.js';
import type { Logger } from '../core/logger.js';
import type { EmotionBatcher } from '../inference/EmotionBatcher.js';
import { InferencePool } from '../inference/InferencePool.js';
import { engineSummary } from '../inference/ModelRunner.js';
import { decodeImage, MAX_ANALYSIS_SIDE } from '../media/imageFile.js';
import { WebRtcSource } from '../media/WebRtcSource.js';
import { analyzeImage, createAnalysisEngine } from '../pipeline/FrameAnalyzer.js';
import { SignalingServer } from '../signaling/SignalingServer.js';
import { MqttSink } from '../sinks/mqtt/MqttSink.js';
import { Auth } from './auth.js';
import { ConcurrencyLimit } from './ConcurrencyLimit.js';
import { registerClusterMetrics } from './clusterMetrics.js';
import { localStreamsOf } from './clusterStreams.js';
import { EVENTS_SERVER_DEFAULTS, EventsServer } from './EventsServer.js';
import { HostCheck } from './HostCheck.js';
import { createRequestHandler } from './httpRoutes.js';
import { Metrics } from './Metrics.js';
import { registerReliabilityMetrics } from './reliabilityMetrics.js';
import { StreamManager } from './StreamManager.js';
import { refuse, UpgradeGate } from './UpgradeGate.js';
import { signalSessionOf } from './webrtcSession.js';

/** Uploads analyzed at once by /api/analyze, and how many more may wait (docs/reliability.md). */
const ANALYZE_CONCURRENCY = 2;
const ANALYZE_WAITING = 8;

/** The built web client: dist/web-client beside dist/server. */
const WEB_CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'web-client');

/**
 * `emostream serve`: wires config, models, streams, events and HTTP together, and shuts down in the order of
 * docs/architecture.md: stop accepting → close sources → drain the batcher → close subscribers and sinks → dispose models.
 */
export class Server {
  readonly config: Readonly<Config>;
  readonly #logger: Logger;
  readonly #http: HttpServer;
  readonly #pool: InferencePool;
  readonly #batcher: EmotionBatcher;
  readonly #bus: EventBus;
  readonly #streams: StreamManager;
  readonly #events: EventsServer;
  /** The MQTT sink, when `mqtt` is configured. */
  readonly #mqtt: MqttSink | undefined;
  /** This server as a node of a cluster, when `cluster` is configured (docs/scaling.md). */
  readonly #cluster: ClusterNode | undefined;
  readonly #signaling: SignalingServer;
  readonly #gate: UpgradeGate;
  readonly #sockets = new Set<Socket>();
  readonly #lifecycle = new CloseOnce('Server', () => this.#shutdown());
  readonly #startedAt = Date.now();

  private constructor(
    config: Readonly<Config>,
    logger: Logger,
    pool: InferencePool,
    auth: Auth,
    bus: EventBus,
    cluster: ClusterNode | undefined,
  ) {
    this.config = config;
    this.#logger = logger;
    this.#pool = pool;
    this.#bus = bus;
    this.#cluster = cluster;
    let metrics: Metrics | undefined;
    const engine = createAnalysisEngine(
      pool,
      config.models,
      { maxBatch: config.analysis.maxBatch, maxWaitMs: config.analysis.maxWaitMs },
      {
        onBatch: (size, seconds) => {
          metrics?.observeBatch(size);
          metrics?.observeInference('classify', seconds);
        },
        onStage: (stage, seconds) => {
          if (stage !== 'classify') metrics?.observeInference(stage, seconds);
        },
      },
    );
    this.#batcher = engine.batcher;
    this.#streams = new StreamManager({
      config,
      logger,
      ...(cluster ? { directory: cluster } : {}),
      deps: {
        engine,
        analysis: config.analysis,
        tracking: config.tracking,
        bus: this.#bus,
        onFrameToEvent: (seconds) => metrics?.observeFrameToEvent(seconds),
        logger,
      },
    });
    // Host is checked by HostCheck, which answers a missing one with a typed error (Node's own check answers bare).
    this.#http = createServer({ requireHostHeader: false });
    const hosts = new HostCheck(config);
    this.#gate = new UpgradeGate(auth, hosts, config);
    this.#events = new EventsServer(undefined, {
      bus: this.#bus,
      maxSubscribers: config.limits.maxSubscribers,
      heartbeatMs: config.events.heartbeatMs,
      queue: { maxEvents: config.events.queueLimit },
      logger: logger.child({ component: 'events' }),
    });
    this.#mqtt = config.mqtt
      ? new MqttSink({
          config: config.mqtt,
          bus: this.#bus,
          describeStream: (id) => this.#streams.list().find((s) => s.id === id),
          logger: logger.child({ component: 'mqtt' }),
        })
      : undefined;
    this.#signaling = new SignalingServer({
      createSession: (request) => this.#createSession(request),
      maxSessions: config.limits.maxPublishers,
      logger: logger.child({ component: 'signal' }),
    });
    // One routing decision for every upgrade (the gate's); the endpoints take what they are given.
    this.#gate.route('/events', 'subscribe', (req, socket, head) => this.#events.handleUpgrade(req, socket, head));
    // Signalling enforces maxPublishers itself.
    this.#gate.route('/signal', 'publish', (req, socket, head) => this.#signaling.acceptUpgrade(req, socket, head));
    metrics = new Metrics({
      streams: () => this.#streams.streams().map((s) => s.counters),
      engine: () => engineSummary(pool.engine),
      handOff: () => pool.handOff,
      poolQueueDepth: () => pool.queueDepth,
      batcherQueued: () => this.#batcher.queued,
      subscribers: () => this.#events.stats.subscribers,
      eventsDropped: () => this.#events.stats.dropped,
      authRefused: () => ({ ...auth.refused }),
      ...(this.#mqtt ? { mqtt: () => (this.#mqtt as MqttSink).stats } : {}),
    });
    const analyzeLimit = new ConcurrencyLimit(ANALYZE_CONCURRENCY, ANALYZE_WAITING);
    if (cluster) registerClusterMetrics(metrics.registry, () => cluster.stats);
    registerReliabilityMetrics(metrics.registry, {
      bus: () => this.#bus.stats,
      events: () => this.#events.stats,
      pool: () => pool.health,
      refused: () => ({ host: hosts.refused, busy: analyzeLimit.refused }),
    });
    this.#http.on(
      'request',
      createRequestHandler({
        config,
        auth,
        hosts,
        streams: this.#streams,
        metrics,
        analyzeImage: async (bytes) => {
          // Shrunk while decoded (issue 15, finding 6); boxes reported in the upload's own pixels.
          const image = await decodeImage(bytes, 'upload', { maxSide: MAX_ANALYSIS_SIDE });
          const source = { width: image.sourceWidth, height: image.sourceHeight };
          return { ...source, faces: facesInSource(await analyzeImage(image, engine, config.tracking), image, source) };
        },
        analyzeLimit,
        health: async (detailed) => {
          // Degraded: no inference worker runs, so no stream is analyzed (they crashed past the restart budget).
          const status = pool.size > 0 ? ('ok' as const) : ('degraded' as const);
          if (!detailed) return { status };
          return {
            status,
            ...engineSummary(pool.engine),
            workers: pool.size,
            inference: pool.health,
            streams: this.#streams.size,
            uptimeS: Math.round((Date.now() - this.#startedAt) / 1000),
            /** Live tensors per inference worker: flat over time, or something leaks. */
            tensors: await pool.numTensors(),
            heapUsedBytes: process.memoryUsage().heapUsed,
            ...(this.#mqtt ? { mqtt: this.#mqtt.stats } : {}),
            ...(cluster ? { cluster: cluster.stats } : {}),
          };
        },
        webClientDir: WEB_CLIENT_DIR,
        logger,
      }),
    );
    this.#gate.attach(this.#http);
    // CONNECT (a proxy request) is not served: answered and closed, typed (without a listener Node just drops it).
    this.#http.on('connect', (_req, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      refuse(socket, 405, 'METHOD_NOT_ALLOWED', 'CONNECT is not served');
    });
    // A request Node cannot parse (bad request line, header too large, ...) gets a typed error like any other.
    this.#http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
    // Every socket, upgraded ones included (http stops tracking those), so that shutdown can end them all.
    this.#http.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(config: Readonly<Config>, logger: Logger): Promise<Server> {
    const auth = new Auth(config); // refuses to start on a public interface without tokens
    const bus = new EventBus({ maxUpdatesPerSecond: config.events.maxUpdatesPerSecond });
    // The broker before the models: a wrong or unreachable cluster URL stops the start at once, naming it.
    const cluster = config.cluster
      ? await ClusterNode.start({
          config: config.cluster,
          bus,
          maxStreams: config.limits.maxStreams,
          maxEventBytes: EVENTS_SERVER_DEFAULTS.maxMessageBytes,
          logger: logger.child({ component: 'cluster' }),
        })
      : undefined;
    const pool = await InferencePool.create({
      workers: config.models.workers || availableParallelism(),
      engine: config.models.engine,
      backend: config.models.backend,
      threads: config.models.threads || undefined,
      preload: {
        detectors: [config.models.detector],
        classifiers: [config.models.emotion],
        masks: config.models.mask ? [config.models.mask] : [],
      },
      logger: logger.child({ component: 'inference' }),
    }).catch(async (err) => {
      await cluster?.close();
      throw err;
    });
    const server = new Server(config, logger, pool, auth, bus, cluster);
    await server.#listen();
    await server.#streams.boot();
    cluster?.begin(localStreamsOf(server.#streams, cluster));
    return server;
  }

  /** Test hooks for the fault suite (docs/reliability.md); nothing in the product calls them. */
  readonly faults = {
    /**
     * Makes an inference worker die in the middle of a job (InferencePool.crashWorker); waits up to `timeoutMs` for
     * one to be busy. False when none was.
     */
    crashInferenceWorker: async (timeoutMs = 5000): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while (!this.#pool.crashWorker({ busyOnly: true })) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 1));
      }
      return true;
    },
  };

  get url(): string {
    const address = this.#http.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  async #createSession(request: { sdp: string; name?: string; remoteAddress?: string }) {
    this.#streams.checkCapacity(); // LIMIT_STREAMS to the client, before ICE gathering and a decoder
    const id = this.#streams.nextWebRtcId();
    const source = await WebRtcSource.create({
      id,
      offerSdp: request.sdp,
      name: request.name,
      iceServers: this.config.webrtc.iceServers as { urls: string | string[] }[],
      width: this.config.analysis.frameWidth,
      logger: this.#logger.child({ stream: id }),
    });
    try {
      this.#streams.addSource(source, request.name ?? id);
    } catch (err) {
      await source.close();
      throw err;
    }
    // One owner: the stream manager owns the stream and its source. Ending the session releases the stream (a no-op
    // when it ended by itself); the signalling layer only holds the session.
    return signalSessionOf(source, () => this.#streams.release(id));
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.config.server.port, this.config.server.host, () => {
        this.#http.off('error', reject);
        this.#logger.info({ url: this.url, ...engineSummary(this.#pool.engine) }, 'listening');
        resolve();
      });
    });
  }

  async #shutdown(): Promise<void> {
    this.#logger.info('shutting down');
    this.#mqtt?.beginShutdown();
    this.#cluster?.stopClaiming();
    this.#gate.detach();
    const httpClosed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeIdleConnections();
    await this.#signaling.close();
    await this.#streams.close();
    await this.#cluster?.close(); // the cameras are stopped: their leases go, the others take them
    await this.#batcher.close();
    await Promise.all([this.#events.close(), this.#mqtt?.close()]);
    await this.#bus.close();
    this.#http.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy(); // anything still open (an upgrade nobody finished)
    await httpClosed;
    await this.#pool.close();
    this.#logger.info('stopped');
  }
}

/** Node's answer to a request it cannot parse is a bare 400; ours is the same status with the usual JSON error. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  refuse(socket, 400, 'BAD_ARGUMENT', tooLarge ? 'the request headers are too large' : 'malformed HTTP request');
}
