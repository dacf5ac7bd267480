/** A node as the placement sees it: its streams now (cameras and WebRTC) and `limits.maxStreams`. */
export interface NodeLoad {
  node: string;
  streams: number;
  capacity: number;
}

/**
 * Which of the unowned cameras this node should claim now. Every node computes the same plan from the same view:
 * cameras in id order, each to the node with the fewest streams that has room (ties by node id), as if they were
 * poured into the emptiest nodes first; a node claims its share. Views differ a little between nodes (each read
 * the buckets at its own moment): then two nodes may try the same camera, and the compare-and-set picks one.
 * `overdue` cameras (unowned for a while despite the plan: a node in the plan that does not claim) go to whoever
 * has room.
 */
export function planClaims(
  me: string,
  loads: readonly NodeLoad[],
  unowned: readonly string[],
  overdue: ReadonlySet<string> = new Set(),
): string[] {
  const nodes = loads.map((l) => ({ ...l }));
  const self = nodes.find((n) => n.node === me);
  if (!self) return [];
  const mine: string[] = [];
  for (const camera of [...unowned].sort()) {
    const target = emptiest(nodes);
    if (!target) break;
    if (target === self || (overdue.has(camera) && self.streams < self.capacity)) {
      self.streams++;
      mine.push(camera);
    } else {
      target.streams++;
    }
  }
  return mine;
}

/**
 * A camera this node should hand over so that the load evens out (a node joined, or came back): one at a time, only
 * when another node with room has at least two streams fewer, and none while cameras wait for a node.
 */
export function planShed(
  me: string,
  loads: readonly NodeLoad[],
  held: readonly string[],
  unowned: number,
): string | undefined {
  const self = loads.find((l) => l.node === me);
  if (!self || unowned > 0 || held.length === 0) return undefined;
  const lighter = loads.some((l) => l.node !== me && l.streams < l.capacity && l.streams <= self.streams - 2);
  return lighter ? [...held].sort().at(-1) : undefined;
}

function emptiest(nodes: { node: string; streams: number; capacity: number }[]) {
  let best: (typeof nodes)[number] | undefined;
  for (const n of nodes) {
    if (n.streams >= n.capacity) continue;
    if (!best || n.streams < best.streams || (n.streams === best.streams && n.node < best.node)) best = n;
  }
  return best;
}
