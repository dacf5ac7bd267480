import { describe, expect, it } from 'vitest';
import { clusterNames, subjectToken } from '../../../src/cluster/subjects.js';

describe('cluster names', () => {
  it('puts every event on <name>.events.<stream>.<type>, buckets and requests under the cluster name', () => {
    const names = clusterNames('site-1');
    const event = { type: 'stream.state', streamId: 'cam-lobby', ts: 1, state: 'live', reason: '' } as const;
    expect(names.event(event)).toBe('site-1.events.cam-lobby.stream.state');
    expect(names.events).toBe('site-1.events.>');
    expect([names.cameras, names.leases, names.nodes]).toEqual(['site-1-cameras', 'site-1-leases', 'site-1-nodes']);
    expect(names.node('host.lan-12', 'snapshot')).toBe('site-1.node.host%2Elan-12.snapshot');
  });

  it('an id is always exactly one token: separators and wildcards are escaped, the escape character too', () => {
    expect(subjectToken('cam-1')).toBe('cam-1');
    expect(subjectToken('a.b*c>d%e f')).toBe('a%2Eb%2Ac%3Ed%25e%20f');
    for (const id of ['a.b', 'x*', '>', 'p%2E']) expect(subjectToken(id)).not.toMatch(/[.*> ]/);
    expect(subjectToken('a.b')).not.toBe(subjectToken('a%2Eb'));
  });
});
