import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { CloseOnce } from '../core/CloseOnce.js';
import { MAX_CAMERA_URL_LENGTH, parseCameraUrl } from '../core/cameraUrl.js';
import type { CameraConfig, Config } from '../core/config.js';
import { AppError, errorMessage, InputError } from '../core/errors.js';
import { clipReason } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Source } from '../core/source.js';
import { FileSource } from '../media/FileSource.js';
import { RtspSource } from '../media/RtspSource.js';
import { LiveStream, type LiveStreamDeps } from '../pipeline/LiveStream.js';
import type { CameraDirectory, ListedStream } from './cameraDirectory.js';
import { renderSnapshot } from './snapshot.js';

export interface StreamManagerOptions {
  config: Readonly<Config>;
  /** What every LiveStream runs on. */
  deps: LiveStreamDeps;
  logger: Logger;
  /** In a cluster: the cameras of the config and the API are the cluster's, not the state file's. */
  directory?: CameraDirectory;
}

/** A camera checked and ready to start under an id. */
interface PreparedCamera {
  name: string;
  kind: 'rtsp' | 'file';
  /** The URL ffmpeg gets (normalised, secrets included) or the file's real path. */
  input: string;
  /** What is kept (state file, registry): the normalised URL, or the path as given. */
  keptUrl: string;
  /** What is shown: without credentials. */
  shownUrl: string;
}

interface Entry {
  stream: LiveStream;
  /** Added through the API (kept in the state file), as opposed to declared in the config file. */
  persisted?: CameraConfig;
}

/**
 * Owns every stream (the lifecycle rule: a Map, closes cascade). Cameras come from the config file at boot, from the
 * state file (cameras added through the API, written atomically), and from the API; WebRTC streams from signalling.
 * In a cluster, the config's and the API's cameras go to the cluster's registry, and the cluster starts here the
 * cameras this node holds the lease of (`startCamera`); the list then has every node's streams.
 */
export class StreamManager {
  readonly #streams = new Map<string, Entry>();
  readonly #options: StreamManagerOptions;
  readonly #lifecycle = new CloseOnce('StreamManager', () => this.#closeAll());
  #nextWebRtc = 1;

  constructor(options: StreamManagerOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#streams.size;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Starts the cameras of the config file and of the state file. A camera that fails to start is logged, not fatal. */
  async boot(): Promise<void> {
    const { config, logger, directory } = this.#options;
    if (directory) {
      for (const camera of config.cameras) {
        try {
          const prepared = this.#prepare(camera, { local: false });
          directory.registerFromConfig({ name: prepared.name, url: prepared.keptUrl }, `cam-${slug(prepared.name)}`);
        } catch (err) {
          logger.error({ err: errorMessage(err), camera: camera.name }, 'camera from the config file not registered');
        }
      }
      return;
    }
    for (const camera of config.cameras) {
      await this.addCamera(camera, { persist: false }).catch((err) =>
        logger.error({ err: errorMessage(err), camera: camera.name }, 'camera from the config file not started'),
      );
    }
    for (const camera of this.#readState()) {
      await this.addCamera(camera, { persist: true, booting: true }).catch((err) =>
        logger.error({ err: errorMessage(err), camera: camera.name }, 'camera from the state file not started'),
      );
    }
  }

  /** The streams here, and in a cluster every other node's and the registered cameras waiting for one. */
  list(): ListedStream[] {
    const directory = this.#options.directory;
    const here = this.localList();
    return directory ? [...here, ...directory.remoteStreams()] : here;
  }

  /** The streams that run here. */
  localList(): ListedStream[] {
    const node = this.#options.directory?.node;
    return [...this.#streams.values()].map((e) => (node ? { ...e.stream.info(), node } : e.stream.info()));
  }

  info(id: string): ListedStream {
    const info = this.list().find((s) => s.id === id);
    if (!info) throw new AppError('STREAM_NOT_FOUND', `no stream ${id}`);
    return info;
  }

  /** Whether stream `id` runs here. */
  runs(id: string): boolean {
    return this.#streams.has(id);
  }

  streams(): LiveStream[] {
    return [...this.#streams.values()].map((e) => e.stream);
  }

  /**
   * Adds an RTSP camera (or a file, when `files.allowDir` allows it). The URL is validated before anything runs. In a
   * cluster, a camera of the API is registered for the whole cluster; a node that has room starts it.
   */
  async addCamera(camera: CameraConfig, opts: { persist: boolean; booting?: boolean }): Promise<ListedStream> {
    this.#lifecycle.assertOpen();
    if (this.#options.directory && opts.persist) {
      const id = await this.#register(camera);
      return this.list().find((s) => s.id === id) ?? this.#unassigned(id, this.#prepare(camera, { local: false }));
    }
    const prepared = this.#prepare(camera, { local: true });
    const stream = this.#start(this.#uniqueId(`cam-${slug(prepared.name)}`), prepared);
    const entry = this.#streams.get(stream.id) as Entry;
    if (opts.persist) entry.persisted = { name: prepared.name, url: prepared.keptUrl };
    if (opts.persist && !opts.booting) this.#writeState();
    return stream.info();
  }

  /** Starts a registered camera of the cluster here under its id (this node holds its lease). */
  async startCamera(camera: { id: string; name: string; url: string }): Promise<void> {
    this.#lifecycle.assertOpen();
    if (this.#streams.has(camera.id)) return;
    this.#checkCapacity();
    this.#start(camera.id, this.#prepare(camera, { local: false }));
  }

  /** A `stream.state` for a stream here with its current state and `reason` (the cluster's broker went away...). */
  say(id: string, reason: string): void {
    const stream = this.#streams.get(id)?.stream;
    const state = stream?.source.state;
    if (!stream || stream.closed || state === undefined || state === 'closed') return;
    try {
      this.#options.deps.bus.publish({
        type: 'stream.state',
        streamId: id,
        ts: Date.now(),
        state,
        reason: clipReason(reason),
      });
    } catch {
      // the bus is closing: nobody is left to tell
    }
  }

  async #register(camera: CameraConfig): Promise<string> {
    const directory = this.#options.directory as CameraDirectory;
    const prepared = this.#prepare(camera, { local: false });
    if (this.list().some((s) => s.name === prepared.name)) {
      throw new AppError('NAME_TAKEN', `a stream named "${prepared.name}" exists`);
    }
    return directory.register({ name: prepared.name, url: prepared.keptUrl }, `cam-${slug(prepared.name)}`);
  }

  #unassigned(id: string, prepared: PreparedCamera): ListedStream {
    return {
      id,
      name: prepared.name,
      kind: prepared.kind,
      state: 'unassigned',
      fps: 0,
      faces: 0,
      url: prepared.shownUrl,
    };
  }

  /**
   * Checks a camera's name and URL (`BAD_ARGUMENT`, `BAD_URL`); nothing runs yet. `local`: a camera of this server
   * alone, also checked against the names and the room here (`NAME_TAKEN`, `LIMIT_STREAMS`).
   */
  #prepare(camera: CameraConfig, opts: { local: boolean }): PreparedCamera {
    const name = camera.name.trim();
    if (!name || name.length > 100) throw new InputError('BAD_ARGUMENT', 'name must be 1 to 100 characters');
    if (opts.local && this.localList().some((s) => s.name === name)) {
      throw new AppError('NAME_TAKEN', `a stream named "${name}" exists`);
    }
    if (opts.local) this.#checkCapacity();
    if (typeof camera.url !== 'string' || camera.url.length > MAX_CAMERA_URL_LENGTH) {
      // Checked before anything else looks at it; the message never repeats the URL.
      throw new InputError('BAD_URL', `a camera URL is at most ${MAX_CAMERA_URL_LENGTH} characters`);
    }
    if (/^rtsps?:\/\//i.test(camera.url)) {
      const parsed = parseCameraUrl(camera.url); // BAD_URL for anything malformed; normalised for ffmpeg
      return { name, kind: 'rtsp', input: parsed.href, keptUrl: parsed.href, shownUrl: parsed.display };
    }
    const path = this.#allowedFile(camera.url);
    return { name, kind: 'file', input: path, keptUrl: camera.url, shownUrl: camera.url };
  }

  #start(id: string, camera: PreparedCamera): LiveStream {
    const { config, logger } = this.#options;
    const width = config.analysis.frameWidth;
    // Frames beyond the analysis rate are dropped inside ffmpeg, before they are converted and piped.
    const maxFps = config.analysis.fps;
    let source: Source;
    if (camera.kind === 'rtsp') {
      const rtsp = new RtspSource({ url: camera.input, id, width, maxFps, logger: logger.child({ stream: id }) });
      rtsp.start();
      source = rtsp;
    } else {
      const file = new FileSource({
        path: camera.input,
        id,
        width,
        maxFps,
        loop: true,
        pace: 'realtime',
        logger: logger.child({ stream: id }),
      });
      file.start().catch(() => undefined); // failures arrive as state/error events
      source = file;
    }
    const stream = new LiveStream(id, camera.name, source, this.#options.deps, camera.shownUrl);
    this.#adopt(id, { stream });
    logger.info({ stream: id, name: camera.name, url: camera.shownUrl }, 'camera added');
    return stream;
  }

  /** Registers a source made elsewhere (a WebRTC publish session). */
  addSource(source: Source, name: string): LiveStream {
    this.#lifecycle.assertOpen();
    this.#checkCapacity();
    const stream = new LiveStream(source.id, name, source, this.#options.deps);
    this.#adopt(source.id, { stream });
    return stream;
  }

  /** Keeps a stream, and forgets it when it closes, whoever closed it (the lifecycle rule: one owner, one Map). */
  #adopt(id: string, entry: Entry): void {
    this.#streams.set(id, entry);
    entry.stream.once('closed', (reason) => {
      if (this.#streams.get(id) !== entry) return; // removed by remove() or closeAll() already
      this.#streams.delete(id);
      if (entry.persisted) this.#writeState();
      this.#options.directory?.ended(id);
      this.#options.logger.warn({ stream: id, reason }, 'stream ended by itself; removed');
    });
  }

  /** A WebRTC stream's id; in a cluster it names this node, so that no two nodes give the same id. */
  nextWebRtcId(): string {
    const node = this.#options.directory?.node;
    return this.#uniqueId(node ? `webrtc-${node}-${this.#nextWebRtc++}` : `webrtc-${this.#nextWebRtc++}`);
  }

  /**
   * Stops and forgets a stream (`DELETE /api/streams/:id`); `STREAM_NOT_FOUND` when there is none. In a cluster a
   * registered camera leaves the registry (its node stops it), another node's WebRTC stream is removed there.
   */
  async remove(id: string): Promise<void> {
    const directory = this.#options.directory;
    if (directory?.isCamera(id) && (await directory.unregister(id))) return;
    if (this.#streams.has(id)) return this.release(id);
    if (!directory) throw new AppError('STREAM_NOT_FOUND', `no stream ${id}`);
    await directory.ask(id, 'remove');
  }

  /** Stops and forgets a stream if it is still here (a publish session ending: it may have ended by itself). */
  async release(id: string, reason?: string): Promise<void> {
    const entry = this.#streams.get(id);
    if (!entry) return;
    this.#streams.delete(id);
    if (entry.persisted) this.#writeState();
    await entry.stream.close(reason);
    this.#options.logger.info({ stream: id, reason: reason ?? 'removed' }, 'stream removed');
  }

  /** The latest analyzed frame with its faces drawn; in a cluster, asked of the node that runs the stream. */
  async snapshot(id: string): Promise<Buffer> {
    const entry = this.#streams.get(id);
    if (!entry && this.#options.directory) return Buffer.from(await this.#options.directory.ask(id, 'snapshot'));
    return this.localSnapshot(id);
  }

  /** The snapshot of a stream that runs here. */
  async localSnapshot(id: string): Promise<Buffer> {
    const latest = this.#get(id).latest;
    if (!latest) throw new AppError('NOT_FOUND', `stream ${id} has no analyzed frame yet`);
    return renderSnapshot(latest);
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #get(id: string): LiveStream {
    const entry = this.#streams.get(id);
    if (!entry) throw new AppError('STREAM_NOT_FOUND', `no stream ${id}`);
    return entry.stream;
  }

  /** Throws `LIMIT_STREAMS` when no stream can be added (asked before an expensive setup such as WebRTC's). */
  checkCapacity(): void {
    this.#checkCapacity();
  }

  #checkCapacity(): void {
    const max = this.#options.config.limits.maxStreams;
    if (this.#streams.size >= max) throw new AppError('LIMIT_STREAMS', `at most ${max} streams`);
  }

  #uniqueId(base: string): string {
    let id = base;
    for (let n = 2; this.#streams.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  /**
   * A file under `files.allowDir`, by its real path: a symlink inside the folder that points outside it is refused
   * like `../`. Messages name the folder, not the file.
   */
  #allowedFile(path: string): string {
    const dir = this.#options.config.files.allowDir;
    if (!dir || /^[a-z][a-z0-9+.-]*:/i.test(path)) {
      throw new InputError('BAD_URL', 'camera URLs must be rtsp:// or rtsps://');
    }
    let root: string;
    try {
      root = realpathSync(resolve(dir));
    } catch {
      throw new InputError('BAD_URL', `files.allowDir ${dir} does not exist`);
    }
    const file = resolve(root, path);
    if (!file.startsWith(root + sep)) throw new InputError('BAD_URL', `files must be inside ${root}`);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new InputError('BAD_URL', `no such file in ${root}`);
    }
    if (!real.startsWith(root + sep)) throw new InputError('BAD_URL', `files must be inside ${root}`);
    if (!existsSync(real) || !statSync(real).isFile()) throw new InputError('BAD_URL', `no such file in ${root}`);
    return real;
  }

  #readState(): CameraConfig[] {
    const file = this.#options.config.server.stateFile;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { cameras?: CameraConfig[] };
      return Array.isArray(parsed.cameras)
        ? parsed.cameras.filter((c) => typeof c?.name === 'string' && typeof c?.url === 'string')
        : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // The errno or "not JSON", never the parser's message: it quotes the file, which holds camera passwords.
        const why = (err as NodeJS.ErrnoException).code ?? (err instanceof SyntaxError ? 'not JSON' : 'unreadable');
        this.#options.logger.error({ err: why, file }, 'state file unreadable; starting without it');
      }
      return [];
    }
  }

  /** Atomic: a temp file beside the state file, then rename. */
  #writeState(): void {
    const file = this.#options.config.server.stateFile;
    const cameras = [...this.#streams.values()].flatMap((e) => (e.persisted ? [e.persisted] : []));
    mkdirSync(dirname(resolve(file)), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ cameras }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  async #closeAll(): Promise<void> {
    const entries = [...this.#streams.values()];
    this.#streams.clear();
    await Promise.allSettled(entries.map((e) => e.stream.close()));
  }
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'camera'
  );
}
