/**
 * The house's layering (docs/architecture.md), checked by `npm run lint`. A violation fails lint with the rule's
 * name. Paths are relative to the repository root.
 */
const ROOMS_ON_CORE_ONLY = '^src/(media|signaling|inference|tracking)/';

module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing-of-ours',
      comment: 'src/core holds the shared vocabulary (errors, events, config, types, the bus): it depends on no room.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'media-signaling-inference-tracking-import-core-only',
      comment: 'These rooms know core and themselves, nothing else of ours.',
      severity: 'error',
      from: { path: `${ROOMS_ON_CORE_ONLY}` },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/$1/'] },
    },
    {
      name: 'pipeline-imports-core-inference-tracking',
      comment: 'The frame step and the stream scheduler run on inference and tracking; media reaches them as Sources.',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/', pathNot: ['^src/(core|inference|tracking|pipeline)/'] },
    },
    {
      name: 'sinks-import-core-only',
      comment: 'A sink (src/sinks/<name>) knows core (the bus, events, config) and itself; the server wires it.',
      severity: 'error',
      from: { path: '^src/sinks/([^/]+)/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/sinks/$1/'] },
    },
    {
      name: 'only-cli-lab-commands-import-lab',
      comment: 'The lab (train, evaluate, benches, the naive baseline) is offline: the server never loads it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/lab/', '^src/cli/main\\.ts$'] },
      to: { path: '^src/lab/' },
    },
    {
      name: 'cli-imports-only-lab-commands',
      comment: 'The CLI reaches the lab through its commands only.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/lab/', pathNot: '^src/lab/commands/' },
    },
    {
      name: 'nothing-imports-cli-but-cli-and-lab',
      comment: 'The CLI is the top: wiring and argument parsing; the lab commands share its option parsing.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/lab/'] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'ml-runtimes-only-in-inference',
      comment: 'tfjs, onnxruntime and the model packages stay inside src/inference (and the lab).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/inference/', '^src/lab/'] },
      to: { path: 'node_modules/(@tensorflow|onnxruntime-node|onnxruntime-common|@vladmandic)/' },
    },
    {
      name: 'werift-and-processes-only-in-media',
      comment: 'werift and child processes stay inside src/media (and the lab).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/media/', '^src/lab/'] },
      to: { path: ['node_modules/werift/', '^(node:)?child_process$'] },
    },
    {
      name: 'cluster-imports-core-and-pipeline-types',
      comment: 'The cluster (registry, leases, event transport) knows core and the shape of a stream; the server wires it.',
      severity: 'error',
      from: { path: '^src/cluster/' },
      to: { path: '^src/', pathNot: ['^src/(core|cluster)/', '^src/pipeline/LiveStream\\.ts$'] },
    },
    {
      name: 'nats-only-in-cluster',
      comment: 'The NATS client stays inside src/cluster.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cluster/' },
      to: { path: 'node_modules/nats/' },
    },
    {
      name: 'mqtt-only-in-its-sink',
      comment: 'The MQTT client stays inside the MQTT sink.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/sinks/mqtt/' },
      to: { path: 'node_modules/mqtt/' },
    },
    {
      name: 'web-client-imports-core-types-only',
      comment: 'The browser bundle shares the protocol types with the server, and nothing else.',
      severity: 'error',
      from: { path: '^web-client/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'web-client-imports-types-not-code',
      comment: 'Type-only: no server code is bundled into the browser.',
      severity: 'error',
      from: { path: '^web-client/' },
      to: { path: '^src/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles (type-only ones too) make the rooms harder to read and to move.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
