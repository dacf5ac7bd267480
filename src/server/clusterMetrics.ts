import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterStats } from '../cluster/ClusterNode.js';

type Rows = [Record<string, string>, number][];

/** The cluster's state and traffic as metrics (docs/scaling.md, "Operating"): read from the node at scrape time. */
export function registerClusterMetrics(registry: Registry, stats: () => ClusterStats): void {
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[], read: (s: ClusterStats) => Rows) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, value] of read(stats())) this.inc(labels, value);
      },
    });
  const gauge = (name: string, help: string, read: (s: ClusterStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(stats()));
      },
    });
  gauge('emostream_cluster_connected', '1 while the node is connected to the cluster broker', (s) =>
    s.state === 'connected' ? 1 : 0,
  );
  gauge('emostream_cluster_nodes', 'Live nodes of the cluster, this one included', (s) => s.nodes);
  gauge('emostream_cluster_owned_cameras', 'Cameras this node analyses under a lease', (s) => s.owned.length);
  counter(
    'emostream_cluster_leases_total',
    'Leases claimed, renewed, lost to another node, given up unrenewed (broker away) and released',
    ['event'],
    (s) => Object.entries(s.leases).map(([event, n]) => [{ event }, n]),
  );
  counter(
    'emostream_cluster_events_total',
    "Events sent to the broker (out), other nodes' events received (in), not sent while the broker was away, invalid",
    ['direction'],
    (s) => [
      [{ direction: 'out' }, s.events.out],
      [{ direction: 'in' }, s.events.in],
      [{ direction: 'not_sent' }, s.events.notSent],
      [{ direction: 'invalid' }, s.events.invalid],
    ],
  );
  counter('emostream_cluster_messages_total', 'NATS messages on the broker connection', ['direction'], (s) => [
    [{ direction: 'out' }, s.messages.out],
    [{ direction: 'in' }, s.messages.in],
  ]);
  counter('emostream_cluster_bytes_total', 'NATS payload bytes on the broker connection', ['direction'], (s) => [
    [{ direction: 'out' }, s.bytes.out],
    [{ direction: 'in' }, s.bytes.in],
  ]);
  counter(
    'emostream_cluster_connects_total',
    'Connections to the cluster broker (the first and every reconnect)',
    [],
    (s) => [[{}, s.connects]],
  );
}
