import type { StreamInfo } from '../pipeline/LiveStream.js';

/** A stream as `/api/streams` lists it: in a cluster, with the node that analyses it, or `unassigned` while none does. */
export type ListedStream = Omit<StreamInfo, 'state'> & { state: StreamInfo['state'] | 'unassigned'; node?: string };

/**
 * Where the cameras of the API live when this server is one node of a cluster (src/cluster's ClusterNode): the
 * stream manager registers and removes cameras there instead of in its state file, and the node starts here the
 * cameras it holds the lease of (docs/scaling.md).
 */
export interface CameraDirectory {
  readonly node: string;
  /** Registers a camera for the whole cluster under `id` (or a free variant); `NAME_TAKEN` when the name is. */
  register(camera: { name: string; url: string }, id: string): Promise<string>;
  /**
   * A camera of the config file: registered now, or as soon as the broker is there (a degraded start); left as it is
   * when the registry has a camera of that name already.
   */
  registerFromConfig(camera: { name: string; url: string }, id: string): void;
  /** Removes it from the registry (its node stops it); false when it was not registered. */
  unregister(id: string): Promise<boolean>;
  isCamera(id: string): boolean;
  /** Streams other nodes run, and registered cameras no node runs yet. */
  remoteStreams(): ListedStream[];
  /** Asks the node that runs `id` for its snapshot, or to remove it (a WebRTC stream). */
  ask(id: string, verb: 'snapshot' | 'remove'): Promise<Uint8Array>;
  /** A camera stream here ended by itself. */
  ended(id: string): void;
}
