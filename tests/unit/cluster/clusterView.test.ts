import type { KvEntry } from 'nats';
import { describe, expect, it } from 'vitest';
import { ClusterView, type NodeRecord } from '../../../src/cluster/clusterView.js';

let revision = 0;
function entry(key: string, value: unknown): KvEntry {
  return { key, revision: ++revision, operation: 'PUT', json: () => value } as unknown as KvEntry;
}

function record(node: string, streams: string[]): NodeRecord {
  return {
    node,
    at: 0,
    capacity: 4,
    streams: streams.map((id) => ({ id, name: id, kind: 'rtsp', state: 'live', fps: 5, faces: 0, node })),
  };
}

function read(cameras: string[], leases: Record<string, string>, nodes: NodeRecord[]) {
  return {
    cameras: new Map(cameras.map((id) => [id, entry(id, { name: id, url: `rtsp://h/${id}` })])),
    leases: new Map(Object.entries(leases).map(([id, node]) => [id, entry(id, { node })])),
    nodes: new Map(nodes.map((r) => [r.node, entry(r.node, r)])),
  };
}

describe('ClusterView.loads', () => {
  it('counts the other live nodes with their streams', () => {
    const view = new ClusterView(10_000);
    view.update(read(['c1', 'c2'], { c1: 'b', c2: 'b' }, [record('b', ['c1', 'c2'])]));
    expect(view.loads({ node: 'a', streams: 0, capacity: 4 })).toEqual([
      { node: 'a', streams: 0, capacity: 4 },
      { node: 'b', streams: 2, capacity: 4 },
    ]);
  });

  it('leaves out a node whose camera lost its lease (dead or cut off) before its record goes stale', () => {
    const view = new ClusterView(10_000);
    // b died: its leases lapsed at the broker, its record is still fresh here.
    view.update(read(['c1', 'c2'], {}, [record('b', ['c1', 'c2']), record('c', [])]));
    expect(view.loads({ node: 'a', streams: 1, capacity: 4 }).map((l) => l.node)).toEqual(['a', 'c']);
    // A camera b gave up (removed from the registry) or lost to another node does not make b look dead.
    view.update(read(['c2'], { c2: 'c' }, [record('b', ['c1', 'c2']), record('c', ['c2'])]));
    expect(view.loads({ node: 'a', streams: 1, capacity: 4 }).map((l) => l.node)).toEqual(['a', 'b', 'c']);
  });
});
