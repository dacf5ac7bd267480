import { hostname } from 'node:os';
import type { NatsConnection } from 'nats';
import { CloseOnce } from '../core/CloseOnce.js';
import type { ClusterConfig } from '../core/config.js';
import type { EventBus } from '../core/EventBus.js';
import { AppError, errorCode, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type Buckets, openBuckets, readAll } from './buckets.js';
import { ClusterConnection, type ClusterConnectionStats } from './ClusterConnection.js';
import { ClusterEvents, type ClusterEventsStats } from './ClusterEvents.js';
import { type ClusterStreamInfo, ClusterView, type NodeRecord, type RegisteredCamera } from './clusterView.js';
import { isCasConflict, type LeaseCounters, LeaseTable } from './LeaseTable.js';
import { answerRequests, askNode, type NodeAnswers } from './nodeRequests.js';
import { planClaims, planShed } from './placement.js';
import { type ClusterNames, clusterNames } from './subjects.js';

/** What the node asks of the server's stream manager: the streams that run here. */
export interface LocalStreams extends NodeAnswers {
  list(): ClusterStreamInfo[];
  /** Starts a registered camera here (this node holds its lease now). */
  start(camera: RegisteredCamera): Promise<void>;
  /** Stops a camera here (its lease is gone, or being given up); its `stream.state closed` carries `reason`. */
  stop(id: string, reason: string): Promise<void>;
  runs(id: string): boolean;
  /** A `stream.state` with the stream's current state and this reason (the broker went away, came back). */
  say(id: string, reason: string): void;
}

export interface ClusterStats extends ClusterConnectionStats {
  node: string;
  name: string;
  /** Cameras analysed here under a lease. */
  owned: string[];
  nodes: number;
  leases: LeaseCounters;
  events: ClusterEventsStats;
  /** The last failure of a renewal round (until one succeeds). */
  roundError?: { code: string; message: string };
}

/**
 * This server as one node of a cluster (docs/scaling.md): the registry of cameras, the leases of the cameras it
 * analyses, its record among the nodes, and the event transport. Every `renewMs` it renews its leases, reads the
 * cluster, writes its record, claims the cameras the placement gives it and stops those it no longer holds; a fence
 * timer stops the cameras whose leases it could not renew before they can expire.
 */
export class ClusterNode {
  readonly node: string;
  readonly names: ClusterNames;
  readonly #config: ClusterConfig;
  readonly #connection: ClusterConnection;
  readonly #events: ClusterEvents;
  readonly #leases: LeaseTable;
  readonly #view: ClusterView;
  readonly #capacity: number;
  readonly #logger: Logger;
  readonly #lifecycle = new CloseOnce('cluster node', () => this.#teardown());
  #buckets: Buckets | undefined;
  /** Opening the buckets after a degraded start, once the broker is there. */
  #settingUp: Promise<void> | undefined;
  #local: LocalStreams | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #fence: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #again = false;
  #stopping = false;
  #roundError: { code: string; message: string } | undefined;
  /** Cameras unowned since (local time), for the placement's "overdue"; cameras this node failed to start, until. */
  readonly #unownedSince = new Map<string, number>();
  readonly #cannotStart = new Map<string, number>();
  /** Cameras of the config file not registered yet (the broker was not there). */
  #fromConfig: { camera: { name: string; url: string }; id: string }[] = [];

  private constructor(options: ClusterNodeOptions, connection: ClusterConnection, node: string) {
    const { config, bus, logger } = options;
    this.#config = config;
    this.node = node;
    this.names = clusterNames(config.name);
    this.#connection = connection;
    this.#capacity = options.maxStreams;
    this.#logger = logger;
    this.#leases = new LeaseTable({ node, leaseMs: config.leaseMs, renewMs: config.renewMs });
    this.#view = new ClusterView(2.5 * config.renewMs);
    this.#events = new ClusterEvents({
      bus,
      names: this.names,
      nc: () => connection.nc,
      maxBytes: options.maxEventBytes,
      onRemote: (event) => this.#view.noteRemote(event),
      logger,
    });
    connection.on('connected', () => void this.#onConnected());
    connection.on('disconnected', () => this.#onDisconnected());
    this.#fence = setInterval(() => this.#expire(), Math.max(50, config.renewMs / 4));
  }

  /** Connects (or, with `onUnreachable: degraded`, starts trying) and opens the buckets. Nothing runs until `begin`. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = options.config.node ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`;
    const connection = await ClusterConnection.open(options.config, node, options.logger);
    const cluster = new ClusterNode(options, connection, node);
    try {
      if (connection.nc) await cluster.#setUp(connection.nc);
    } catch (err) {
      await cluster.close();
      throw connection.failure(err);
    }
    return cluster;
  }

  /** Starts the rounds: from now on this node claims cameras and runs them through `local`. */
  begin(local: LocalStreams): void {
    this.#local = local;
    this.#soon();
  }

  get connected(): boolean {
    return this.#connection.connected;
  }

  get stats(): ClusterStats {
    return {
      ...this.#connection.stats,
      node: this.node,
      name: this.#config.name,
      owned: this.#leases.held(),
      nodes: this.#view.others(this.node).length + 1,
      leases: { ...this.#leases.counters },
      events: this.#events.stats,
      ...(this.#roundError ? { roundError: this.#roundError } : {}),
    };
  }

  /** Registers a camera for the whole cluster under `id` (or `id-2`, ... when another camera has it). */
  async register(camera: { name: string; url: string }, id: string): Promise<string> {
    const buckets = await this.#ready();
    for (let n = 1; n <= 20; n++) {
      const key = n === 1 ? id : `${id}-${n}`;
      try {
        await buckets.cameras.create(key, JSON.stringify({ name: camera.name, url: camera.url }));
        this.#view.cameras.set(key, { id: key, ...camera });
        this.#changed();
        return key;
      } catch (err) {
        if (!isCasConflict(err)) throw this.#connection.failure(err);
        const existing = await buckets.cameras.get(key).catch(() => null);
        if (existing?.operation === 'PUT' && existing.json<RegisteredCamera>().name === camera.name) {
          throw new AppError('NAME_TAKEN', `a stream named "${camera.name}" exists`);
        }
      }
    }
    throw new AppError('NAME_TAKEN', `too many cameras named like "${camera.name}"`);
  }

  /** A camera of the config file: registered now, or once the broker is there; a camera of that name stays as it is. */
  registerFromConfig(camera: { name: string; url: string }, id: string): void {
    this.#fromConfig.push({ camera, id });
    if (this.#buckets && this.#connection.connected) void this.#registerFromConfig();
  }

  /** Removes a camera from the registry; the node analysing it stops it. False when it was not registered. */
  async unregister(id: string): Promise<boolean> {
    const buckets = await this.#ready();
    const known = await buckets.cameras.get(id).catch((err) => {
      throw this.#connection.failure(err);
    });
    if (known?.operation !== 'PUT') return false;
    await buckets.cameras.delete(id);
    this.#view.cameras.delete(id);
    if (this.#leases.holds(id)) {
      await this.#local?.stop(id, 'removed');
      await this.#leases.release(buckets.leases, id);
    }
    this.#changed();
    return true;
  }

  /** Whether `id` is a registered camera (as of the last round). */
  isCamera(id: string): boolean {
    return this.#view.cameras.has(id);
  }

  /** Streams of the other nodes, and registered cameras that no node runs yet. */
  remoteStreams(): ClusterStreamInfo[] {
    return this.#view.remoteStreams(this.node, (id) => this.#local?.runs(id) ?? false);
  }

  /** Asks the node that runs stream `id` for its snapshot, or to remove it; `STREAM_NOT_FOUND` when none does. */
  async ask(id: string, verb: 'snapshot' | 'remove'): Promise<Uint8Array> {
    const node = this.#view.nodeOf(this.node, id);
    const nc = this.#connection.nc;
    if (!node) throw new AppError('STREAM_NOT_FOUND', `no stream ${id}`);
    if (!nc) throw new AppError('CLUSTER_UNAVAILABLE', `stream ${id} runs on node ${node}; the broker is unreachable`);
    return askNode(nc, this.names, node, verb, id, Math.max(2000, this.#config.renewMs));
  }

  /** A camera stream here ended by itself (a file that cannot be decoded): gone from the cluster, as when alone. */
  ended(id: string): void {
    if (!this.#leases.holds(id)) return;
    void this.unregister(id).catch((err) =>
      this.#logger.warn({ err: errorMessage(err), stream: id }, 'not unregistered'),
    );
  }

  /** Claims nothing more (shutting down: the server closes its streams next, then this node). */
  stopClaiming(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  async #ready(): Promise<Buckets> {
    this.#lifecycle.assertOpen();
    await this.#settingUp?.catch(() => undefined);
    if (!this.#buckets || !this.#connection.connected) {
      throw new AppError('CLUSTER_UNAVAILABLE', `the cluster broker ${this.#connection.url} is unreachable`);
    }
    return this.#buckets;
  }

  async #setUp(nc: NatsConnection): Promise<void> {
    const timeout = Math.max(1000, this.#config.renewMs);
    this.#buckets ??= await openBuckets(nc, this.names, this.#config.leaseMs, timeout);
    this.#events.listen(nc);
    nc.subscribe(this.names.changed, { callback: () => this.#soon() });
    answerRequests(nc, this.names, this.node, {
      snapshot: (id) => this.#localOrMissing().snapshot(id),
      remove: (id) => this.#localOrMissing().remove(id),
    });
  }

  #localOrMissing(): LocalStreams {
    if (!this.#local) throw new AppError('STREAM_NOT_FOUND', 'this node runs no stream yet');
    return this.#local;
  }

  async #onConnected(): Promise<void> {
    const nc = this.#connection.nc;
    if (!nc || this.closed) return;
    if (!this.#buckets) {
      this.#settingUp = this.#setUp(nc);
      try {
        await this.#settingUp?.catch(() => undefined);
      } catch (err) {
        this.#logger.error({ err: errorMessage(err) }, 'cluster buckets not opened; retrying at the next connect');
        return;
      } finally {
        this.#settingUp = undefined;
      }
    }
    for (const id of this.#leases.held()) this.#local?.say(id, 'cluster broker reachable again');
    await this.#registerFromConfig();
    this.#soon();
  }

  async #registerFromConfig(): Promise<void> {
    const waiting = this.#fromConfig;
    this.#fromConfig = [];
    for (const { camera, id } of waiting) {
      const known = [...this.#view.cameras.values()].some((c) => c.name === camera.name);
      if (known) continue;
      try {
        await this.register(camera, id);
      } catch (err) {
        if (errorCode(err) === 'NAME_TAKEN') continue;
        if (errorCode(err) === 'CLUSTER_UNAVAILABLE' || errorCode(err) === 'CLUSTER_UNREACHABLE') {
          this.#fromConfig.push({ camera, id }); // the broker went away again: at the next connect
        } else {
          this.#logger.error(
            { err: errorMessage(err), camera: camera.name },
            'camera from the config file not registered',
          );
        }
      }
    }
  }

  #onDisconnected(): void {
    const until = new Date(Date.now() + this.#config.leaseMs - this.#config.renewMs).toISOString();
    for (const id of this.#leases.held()) {
      this.#local?.say(
        id,
        `cluster broker unreachable: analysed here until its lease runs out (${until} at the latest)`,
      );
    }
  }

  /** A round as soon as possible (a camera was added or removed somewhere, a lease was given up). */
  #soon(): void {
    if (this.#stopping || this.closed || !this.#local) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#round(), 20);
  }

  #round(): void {
    this.#running = this.#renewAndPlace()
      .then(() => {
        this.#roundError = undefined;
      })
      .catch((err) => {
        const first = this.#roundError === undefined;
        this.#roundError = { code: errorCode(this.#connection.failure(err)), message: errorMessage(err) };
        if (first) this.#logger.warn({ err: errorMessage(err) }, 'cluster round failed; trying again');
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#stopping || this.closed) return;
        const delay = this.#again ? 20 : this.#config.renewMs;
        this.#again = false;
        this.#timer = setTimeout(() => this.#round(), delay);
      });
  }

  async #renewAndPlace(): Promise<void> {
    const b = this.#buckets;
    const local = this.#local;
    if (!b || !local || !this.#connection.connected) return;
    for (const id of await this.#leases.renew(b.leases)) await local.stop(id, 'its lease went to another node');
    const timeout = this.#config.renewMs;
    const [cameras, leases, nodes] = await Promise.all([
      readAll(b.cameras, timeout),
      readAll(b.leases, timeout),
      readAll(b.nodes, timeout),
    ]);
    this.#view.update({ cameras, leases, nodes });
    for (const id of this.#leases.held()) {
      if (this.#view.cameras.has(id) && this.#view.leases.get(id)?.node === this.node) continue;
      await local.stop(id, this.#view.cameras.has(id) ? 'its lease went to another node' : 'removed');
      await this.#leases.release(b.leases, id);
    }
    await this.#writeRecord(b, local);
    await this.#claim(b, local);
  }

  async #writeRecord(b: Buckets, local: LocalStreams): Promise<void> {
    const record: NodeRecord = { node: this.node, at: Date.now(), capacity: this.#capacity, streams: local.list() };
    await b.nodes.put(this.node, JSON.stringify(record));
  }

  async #claim(b: Buckets, local: LocalStreams): Promise<void> {
    const now = performance.now();
    const unowned = [...this.#view.cameras.keys()].filter((id) => !this.#view.leases.has(id));
    for (const id of this.#unownedSince.keys()) if (!unowned.includes(id)) this.#unownedSince.delete(id);
    for (const id of unowned) if (!this.#unownedSince.has(id)) this.#unownedSince.set(id, now);
    const overdue = new Set(
      unowned.filter((id) => now - (this.#unownedSince.get(id) ?? now) > 2 * this.#config.renewMs),
    );
    const startable = unowned.filter((id) => (this.#cannotStart.get(id) ?? 0) <= now);
    const me = { node: this.node, streams: local.list().length, capacity: this.#capacity };
    for (const id of planClaims(this.node, this.#view.loads(me), startable, overdue)) {
      const camera = this.#view.cameras.get(id);
      if (!camera || this.#stopping || local.list().length >= this.#capacity) break;
      if (!(await this.#leases.claim(b.leases, id))) continue;
      try {
        await local.start(camera);
      } catch (err) {
        this.#logger.warn({ stream: id, err: errorMessage(err), code: errorCode(err) }, 'camera not started here');
        this.#cannotStart.set(id, now + 10 * this.#config.renewMs);
        await this.#leases.release(b.leases, id);
      }
    }
    const shed = planShed(this.node, this.#view.loads(me), this.#leases.held(), unowned.length);
    if (shed && !this.#stopping) {
      this.#logger.info({ stream: shed }, 'handing a camera over to balance the load');
      await local.stop(shed, 'handed over to another node');
      await this.#leases.release(b.leases, shed);
      this.#changed();
    }
  }

  /** The fence: a lease that could not be renewed is given up, its camera stopped, before it can expire. */
  #expire(): void {
    for (const id of this.#leases.expiring()) {
      this.#logger.warn({ stream: id }, 'lease not renewed in time; camera stopped');
      void this.#local?.stop(id, 'its lease could not be renewed (cluster broker unreachable)');
    }
  }

  /** Tells every node to look again now. */
  #changed(): void {
    this.#connection.nc?.publish(this.names.changed);
    this.#soon();
  }

  async #teardown(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    clearInterval(this.#fence);
    await this.#running;
    const b = this.#connection.connected ? this.#buckets : undefined;
    // The server closed its streams before this: the cameras are stopped, their leases can go.
    await Promise.all(this.#leases.held().map((id) => this.#leases.release(b?.leases, id)));
    await b?.nodes.delete(this.node).catch(() => undefined);
    this.#connection.nc?.publish(this.names.changed);
    await this.#events.close();
    await this.#connection.close();
  }
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  bus: EventBus;
  /** `limits.maxStreams`: a node with this many streams claims no more. */
  maxStreams: number;
  /** The largest event `/events` sends; larger ones from the broker are dropped. */
  maxEventBytes: number;
  logger: Logger;
}
