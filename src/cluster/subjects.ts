import type { BusEvent } from '../core/events.js';

/**
 * Names on the broker (docs/scaling.md, "Layout"), all under the cluster's name so that clusters with different
 * names share a broker without meeting:
 * - KV buckets `<name>-cameras` (the registry), `<name>-leases` (who analyses which camera), `<name>-nodes` (who is
 *   alive, with its load and its streams);
 * - `<name>.events.<stream>.<type>`: every event of every node, the `/events` JSON as payload (a type is two
 *   tokens: `face.new`, `stream.state`), so `<name>.events.cam-1.>` is one camera and `<name>.events.*.face.end` one
 *   kind;
 * - `<name>.changed`: "look again now" (a camera added or removed, a lease given up), empty;
 * - `<name>.node.<node>.<verb>`: requests to one node (a snapshot, removing one of its WebRTC streams).
 */
export interface ClusterNames {
  cameras: string;
  leases: string;
  nodes: string;
  events: string;
  changed: string;
  node(node: string, verb: NodeVerb): string;
  event(event: BusEvent): string;
}

export type NodeVerb = 'snapshot' | 'remove';

export function clusterNames(name: string): ClusterNames {
  return {
    cameras: `${name}-cameras`,
    leases: `${name}-leases`,
    nodes: `${name}-nodes`,
    events: `${name}.events.>`,
    changed: `${name}.changed`,
    node: (node, verb) => `${name}.node.${subjectToken(node)}.${verb}`,
    event: (event) => `${name}.events.${subjectToken(event.streamId)}.${event.type}`,
  };
}

/**
 * A stream id or node id as one subject token. Ids we make are letters, digits and `-`; an id allowed elsewhere may
 * hold `.` (a token separator), `*`, `>` or `%`: those are %-escaped so that an id is always exactly one token.
 */
export function subjectToken(id: string): string {
  return /^[A-Za-z0-9_~:-]+$/.test(id) ? id : id.replace(/[^A-Za-z0-9_~:-]/g, (c) => `%${hex(c)}`);
}

function hex(c: string): string {
  return (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(2, '0');
}
