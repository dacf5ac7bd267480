import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const tmp = mkdtempSync(join(tmpdir(), 'emostream-layering-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a small tree with the house's folders and runs the project's dependency rules on it. */
function cruise(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmp, 'tree-'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
  const config = join(ROOT, '.dependency-cruiser.cjs');
  return spawnSync(bin, ['src', 'web-client', '--config', config, '--output-type', 'err'], {
    cwd: dir,
    encoding: 'utf8',
  });
}

describe('layering rules (npm run lint)', () => {
  it('accept a tree that keeps the rules', () => {
    const r = cruise({
      'src/core/types.ts': 'export type Box = { x: number };\n',
      'src/media/Source.ts': "import type { Box } from '../core/types.js';\nexport const box: Box = { x: 1 };\n",
      'src/pipeline/step.ts':
        "import type { Box } from '../core/types.js';\nexport const b: Box | undefined = undefined;\n",
      'web-client/src/main.ts':
        "import type { Box } from '../../src/core/types.js';\nexport const b: Box | undefined = undefined;\n",
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('fail on a violation, naming the rule', () => {
    const r = cruise({
      'src/core/types.ts': "import { source } from '../media/Source.js';\nexport const s = source;\n",
      'src/media/Source.ts': 'export const source = 1;\n',
      'src/lab/bench.ts': 'export const bench = 1;\n',
      'src/server/Server.ts':
        "import { spawn } from 'node:child_process';\nimport { bench } from '../lab/bench.js';\nexport const x = [spawn, bench];\n",
      'src/pipeline/step.ts': "import { source } from '../media/Source.js';\nexport const y = source;\n",
      'web-client/src/main.ts': "import { source } from '../../src/media/Source.js';\nexport const z = source;\n",
      'src/tracking/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/tracking/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    for (const rule of [
      'core-imports-nothing-of-ours: src/core/types.ts → src/media/Source.ts',
      'only-cli-lab-commands-import-lab: src/server/Server.ts → src/lab/bench.ts',
      'werift-and-processes-only-in-media: src/server/Server.ts → child_process',
      'pipeline-imports-core-inference-tracking: src/pipeline/step.ts → src/media/Source.ts',
      'web-client-imports-core-types-only: web-client/src/main.ts → src/media/Source.ts',
      'no-circular',
    ]) {
      expect(out).toContain(rule);
    }
  });

  it('a sink imports core and itself only; the server may wire it; the MQTT client only in its sink', () => {
    const mqttPackage = {
      'node_modules/mqtt/package.json': '{ "name": "mqtt", "main": "index.js" }\n',
      'node_modules/mqtt/index.js': 'exports.connect = () => undefined;\n',
    };
    const ok = cruise({
      ...mqttPackage,
      'src/sinks/mqtt/Connection.ts': "import { connect } from 'mqtt';\nexport const c = connect;\n",
      'src/core/bus.ts': 'export const bus = 1;\n',
      'src/sinks/mqtt/Sink.ts':
        "import { bus } from '../../core/bus.js';\nimport { t } from './topics.js';\nexport const s = [bus, t];\n",
      'src/sinks/mqtt/topics.ts': 'export const t = 1;\n',
      'src/server/Server.ts': "import { s } from '../sinks/mqtt/Sink.js';\nexport const x = s;\n",
      'web-client/src/main.ts': 'export const w = 1;\n',
    });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = cruise({
      ...mqttPackage,
      'src/server/Mqtt.ts': "import { connect } from 'mqtt';\nexport const c = connect;\n",
      'src/server/Metrics.ts': 'export const m = 1;\n',
      'src/sinks/files/x.ts': 'export const f = 1;\n',
      'src/sinks/mqtt/Sink.ts':
        "import { m } from '../../server/Metrics.js';\nimport { f } from '../files/x.js';\nexport const s = [m, f];\n",
      'web-client/src/main.ts': 'export const w = 1;\n',
    });
    expect(bad.status).not.toBe(0);
    const out = bad.stdout + bad.stderr;
    expect(out).toContain('sinks-import-core-only: src/sinks/mqtt/Sink.ts → src/server/Metrics.ts');
    expect(out).toContain('sinks-import-core-only: src/sinks/mqtt/Sink.ts → src/sinks/files/x.ts');
    expect(out).toContain('mqtt-only-in-its-sink: src/server/Mqtt.ts → node_modules/mqtt/index.js');
  });

  it('the cluster imports core and the stream types only; the NATS client only in the cluster', () => {
    const natsPackage = {
      'node_modules/nats/package.json': '{ "name": "nats", "main": "index.js" }\n',
      'node_modules/nats/index.js': 'exports.connect = () => undefined;\n',
    };
    const ok = cruise({
      ...natsPackage,
      'src/cluster/Node.ts':
        "import { connect } from 'nats';\nimport { bus } from '../core/bus.js';\nimport type { Info } from '../pipeline/LiveStream.js';\nexport const n = [connect, bus];\nexport type I = Info;\n",
      'src/core/bus.ts': 'export const bus = 1;\n',
      'src/pipeline/LiveStream.ts': 'export interface Info { id: string }\n',
      'src/server/Server.ts': "import { n } from '../cluster/Node.js';\nexport const x = n;\n",
      'web-client/src/main.ts': 'export const w = 1;\n',
    });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const bad = cruise({
      ...natsPackage,
      'src/server/Nats.ts': "import { connect } from 'nats';\nexport const c = connect;\n",
      'src/server/Metrics.ts': 'export const m = 1;\n',
      'src/cluster/Node.ts': "import { m } from '../server/Metrics.js';\nexport const n = m;\n",
      'web-client/src/main.ts': 'export const w = 1;\n',
    });
    expect(bad.status).not.toBe(0);
    const out = bad.stdout + bad.stderr;
    expect(out).toContain('cluster-imports-core-and-pipeline-types: src/cluster/Node.ts → src/server/Metrics.ts');
    expect(out).toContain('nats-only-in-cluster: src/server/Nats.ts → node_modules/nats/index.js');
  });
});
