import { parentPort, workerData } from 'node:worker_threads';
import { errorCode, errorMessage } from '../core/errors.js';
import type { CropBatch } from './EmotionClassifier.js';
import { type CropJob, cutCrops } from './faceCrop.js';
import { ModelRunner } from './ModelRunner.js';
import type { WorkerControl, WorkerInit, WorkerReady, WorkerRequest, WorkerResponse } from './workerProtocol.js';

/** Entry of one inference worker thread: one engine, its own models, one request at a time. */
const port = parentPort;
if (!port) throw new Error('inferenceWorker must run in a worker thread');
const init = workerData as WorkerInit;

let runner: ModelRunner;
try {
  runner = await ModelRunner.create(init.runner);
  await runner.preload(init.preload.detectors, init.preload.classifiers, init.preload.masks);
  port.postMessage({ ready: true, info: runner.info() } satisfies WorkerReady);
} catch (err) {
  port.postMessage({ ready: false, error: { code: errorCode(err), message: errorMessage(err) } } satisfies WorkerReady);
  process.exit(1);
}

/** Milliseconds a request spent here, by stage (reported to the main thread's stage times). */
type Stages = Record<string, number>;

function timed<T>(stages: Stages, stage: string, t0: number, value: T): T {
  stages[stage] = (stages[stage] ?? 0) + performance.now() - t0;
  return value;
}

/** Crops cut already, or faces to cut here from their (shared) frames. */
function asBatch(stages: Stages, crops: CropBatch | CropJob): CropBatch {
  return 'faces' in crops ? timed(stages, 'crop', performance.now(), cutCrops(crops)) : crops;
}

/** Set by the fault suite's control message: exit instead of answering (workerProtocol.ts, WorkerControl). */
let crash = false;

port.on('message', async (req: WorkerRequest | WorkerControl) => {
  if ('control' in req) {
    crash = req.control === 'crash';
    return;
  }
  let response: WorkerResponse;
  const transfer: ArrayBuffer[] = [];
  const stages: Stages = {};
  try {
    switch (req.op) {
      case 'detect': {
        const t0 = performance.now();
        const result = timed(stages, 'detect', t0, await runner.detect(req.detector, req.image, req.minScore));
        response = { id: req.id, ok: true, result, stages };
        break;
      }
      case 'classify':
      case 'mask': {
        const crops = asBatch(stages, req.crops);
        const t0 = performance.now();
        const run = req.op === 'classify' ? runner.classify(req.model, crops) : runner.maskScores(req.model, crops);
        const result = timed(stages, req.op, t0, await run);
        transfer.push(result.buffer as ArrayBuffer);
        response = { id: req.id, ok: true, result, stages };
        break;
      }
      case 'numTensors':
        response = { id: req.id, ok: true, result: runner.numTensors() };
        break;
      case 'info':
        response = { id: req.id, ok: true, result: runner.info() };
        break;
    }
  } catch (err) {
    response = { id: req.id, ok: false, error: { code: errorCode(err), message: errorMessage(err) } };
  }
  // The job stays unanswered: the pool sees a worker that died mid-inference (questions such as numTensors are
  // answered: they are not jobs).
  if (crash && req.op !== 'numTensors' && req.op !== 'info') process.exit(70);
  port.postMessage(response, transfer);
});
