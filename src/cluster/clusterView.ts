import type { KvEntry } from 'nats';
import { parseCameraUrl } from '../core/cameraUrl.js';
import type { BusEvent } from '../core/events.js';
import type { StreamInfo } from '../pipeline/LiveStream.js';
import type { NodeLoad } from './placement.js';

/** A camera of the registry: what the state file holds for one camera when running alone, secrets included. */
export interface RegisteredCamera {
  id: string;
  name: string;
  url: string;
}

/** A stream as `/api/streams` lists it in a cluster: where it runs, or `unassigned` while no node has it. */
export type ClusterStreamInfo = Omit<StreamInfo, 'state'> & {
  state: StreamInfo['state'] | 'unassigned';
  node?: string;
};

/** What a node writes about itself every renewal (the `<name>-nodes` bucket). */
export interface NodeRecord {
  node: string;
  at: number;
  capacity: number;
  streams: ClusterStreamInfo[];
}

/**
 * The cluster as this node read it last: the registry, who holds which lease, and the live nodes. A node record that
 * stopped changing for `staleMs` (by this node's clock: no clocks are compared) counts as gone before it expires.
 */
export class ClusterView {
  cameras = new Map<string, RegisteredCamera>();
  /** Camera id → the node holding its lease, and the lease's revision. */
  leases = new Map<string, { node: string; revision: number }>();
  readonly #records = new Map<string, { record: NodeRecord; revision: number; changedAt: number }>();
  readonly #staleMs: number;

  constructor(staleMs: number) {
    this.#staleMs = staleMs;
  }

  update(read: { cameras: Map<string, KvEntry>; leases: Map<string, KvEntry>; nodes: Map<string, KvEntry> }): void {
    this.cameras = new Map();
    for (const [id, entry] of read.cameras) {
      const camera = parse<RegisteredCamera>(entry);
      if (camera && typeof camera.name === 'string' && typeof camera.url === 'string') {
        this.cameras.set(id, { id, name: camera.name, url: camera.url });
      }
    }
    this.leases = new Map();
    for (const [id, entry] of read.leases) {
      const node = parse<{ node: string }>(entry)?.node;
      if (typeof node === 'string') this.leases.set(id, { node, revision: entry.revision });
    }
    const now = performance.now();
    for (const node of this.#records.keys()) if (!read.nodes.has(node)) this.#records.delete(node);
    for (const [node, entry] of read.nodes) {
      const record = parse<NodeRecord>(entry);
      if (!record || !Array.isArray(record.streams)) continue;
      const known = this.#records.get(node);
      const changedAt = known && known.revision === entry.revision ? known.changedAt : now;
      this.#records.set(node, { record, revision: entry.revision, changedAt });
    }
  }

  /** The other nodes that are alive. */
  others(me: string): NodeRecord[] {
    const now = performance.now();
    return [...this.#records.values()]
      .filter((r) => r.record.node !== me && now - r.changedAt <= this.#staleMs)
      .map((r) => r.record);
  }

  /**
   * The nodes the placement may give cameras to: this one and the others alive, less those whose record lists a
   * registered camera that nobody's lease covers any more. A live node renews its leases well before they can lapse;
   * one whose lease lapsed is dead or cut off, even while its record is not stale yet, and its cameras go to the others
   * at once rather than after their "overdue" delay.
   */
  loads(me: NodeLoad): NodeLoad[] {
    const others = this.others(me.node)
      .filter((r) => !r.streams.some((s) => s.state !== 'closed' && this.cameras.has(s.id) && !this.leases.has(s.id)))
      .map((r) => ({ node: r.node, streams: r.streams.length, capacity: r.capacity }));
    return [me, ...others];
  }

  /** Streams of the other nodes, and registered cameras that no node runs (yet). */
  remoteStreams(me: string, runsHere: (id: string) => boolean): ClusterStreamInfo[] {
    const out: ClusterStreamInfo[] = [];
    const listed = new Set<string>();
    for (const record of this.others(me)) {
      for (const s of record.streams) {
        if (s.state === 'closed' || listed.has(s.id) || runsHere(s.id)) continue;
        // A camera belongs to the node that holds its lease: a record can be older than the lease's end.
        if (this.cameras.has(s.id) && this.leases.get(s.id)?.node !== record.node) continue;
        listed.add(s.id);
        out.push({ ...s, node: record.node });
      }
    }
    for (const camera of this.cameras.values()) {
      if (listed.has(camera.id) || runsHere(camera.id)) continue;
      const lease = this.leases.get(camera.id);
      out.push({
        id: camera.id,
        name: camera.name,
        kind: /^rtsps?:/i.test(camera.url) ? 'rtsp' : 'file',
        state: lease ? 'starting' : 'unassigned',
        fps: 0,
        faces: 0,
        url: displayUrl(camera.url),
        ...(lease ? { node: lease.node } : {}),
      });
    }
    return out;
  }

  /** The node that lists `id` among its streams. */
  nodeOf(me: string, id: string): string | undefined {
    return this.others(me).find((r) => r.streams.some((s) => s.id === id))?.node;
  }

  /** A remote `stream.state` changes the listed state at once (records come every renewal). */
  noteRemote(event: BusEvent): void {
    if (event.type !== 'stream.state') return;
    for (const { record } of this.#records.values()) {
      for (const s of record.streams)
        if (s.id === event.streamId) s.state = event.state === 'ended' ? 'closed' : event.state;
    }
  }
}

function parse<T>(entry: KvEntry): T | undefined {
  try {
    return entry.json<T>();
  } catch {
    return undefined;
  }
}

function displayUrl(url: string): string {
  if (!/^rtsps?:/i.test(url)) return url;
  try {
    return parseCameraUrl(url).display;
  } catch {
    return 'rtsp://(invalid)';
  }
}
