import type { Registry } from 'prom-client';
import type { ClusterStats } from '../cluster/ClusterNode.js';
import { ScrapedMetrics, single } from './scrapedMetrics.js';

/** The cluster's state and traffic as metrics (docs/scaling.md, "Operating"): read from the node at scrape time. */
export function registerClusterMetrics(registry: Registry, stats: () => ClusterStats): void {
  const scraped = new ScrapedMetrics(registry);
  scraped.gauge('emostream_cluster_connected', '1 while the node is connected to the cluster broker', [], () =>
    single(stats().state === 'connected' ? 1 : 0),
  );
  scraped.gauge('emostream_cluster_nodes', 'Live nodes of the cluster, this one included', [], () =>
    single(stats().nodes),
  );
  scraped.gauge('emostream_cluster_owned_cameras', 'Cameras this node analyses under a lease', [], () =>
    single(stats().owned.length),
  );
  scraped.counter(
    'emostream_cluster_leases_total',
    'Leases claimed, renewed, lost to another node, given up unrenewed (broker away) and released',
    ['event'],
    () => Object.entries(stats().leases).map(([event, n]) => [{ event }, n]),
  );
  scraped.counter(
    'emostream_cluster_events_total',
    "Events sent to the broker (out), other nodes' events received (in), not sent while the broker was away, invalid",
    ['direction'],
    () => {
      const { events } = stats();
      return [
        [{ direction: 'out' }, events.out],
        [{ direction: 'in' }, events.in],
        [{ direction: 'not_sent' }, events.notSent],
        [{ direction: 'invalid' }, events.invalid],
      ];
    },
  );
  scraped.counter('emostream_cluster_messages_total', 'NATS messages on the broker connection', ['direction'], () => {
    const { messages } = stats();
    return [
      [{ direction: 'out' }, messages.out],
      [{ direction: 'in' }, messages.in],
    ];
  });
  scraped.counter('emostream_cluster_bytes_total', 'NATS payload bytes on the broker connection', ['direction'], () => {
    const { bytes } = stats();
    return [
      [{ direction: 'out' }, bytes.out],
      [{ direction: 'in' }, bytes.in],
    ];
  });
  scraped.counter(
    'emostream_cluster_connects_total',
    'Connections to the cluster broker (the first and every reconnect)',
    [],
    () => single(stats().connects),
  );
}
