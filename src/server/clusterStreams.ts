import type { ClusterNode, LocalStreams } from '../cluster/ClusterNode.js';
import { AppError } from '../core/errors.js';
import type { StreamManager } from './StreamManager.js';

/** The stream manager as the cluster node sees it: the streams that run here, and only those. */
export function localStreamsOf(streams: StreamManager, cluster: ClusterNode): LocalStreams {
  return {
    list: () => streams.localList(),
    start: (camera) => streams.startCamera(camera),
    stop: (id, reason) => streams.release(id, reason),
    runs: (id) => streams.runs(id),
    say: (id, reason) => streams.say(id, reason),
    snapshot: (id) => streams.localSnapshot(id),
    remove: async (id) => {
      // Another node's DELETE of a WebRTC stream here; registered cameras leave through the registry.
      if (!streams.runs(id) || cluster.isCamera(id)) throw new AppError('STREAM_NOT_FOUND', `no stream ${id} here`);
      await streams.release(id);
    },
  };
}
