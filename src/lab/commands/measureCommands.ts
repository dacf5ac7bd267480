import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { backendArg, detectorArg, optionalInt, parseCommand } from '../../cli/cliArgs.js';
import { InputError } from '../../core/errors.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { DETECTOR_NAMES } from '../../inference/modelManifest.js';
import { decodeImage } from '../../media/imageFile.js';
import { benchDetect } from '../evaluation/benchDetect.js';
import { evaluate } from '../evaluation/evaluate.js';
import { explainFace, explanationPng } from '../evaluation/explain.js';

type Out = (line: string) => void;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** `emostream evaluate --data DIR [--labels fer2013|ferplus --ferplus-csv F] [--emotion-model M] [--tta flip] [--detect]`. */
export async function evaluateCommand(argv: string[], out: Out): Promise<number> {
  const { values } = parseCommand(argv, {
    data: { type: 'string' },
    labels: { type: 'string' },
    'ferplus-csv': { type: 'string' },
    'emotion-model': { type: 'string' },
    tta: { type: 'string' },
    detect: { type: 'boolean' },
    detector: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    workers: { type: 'string' },
  });
  const data = str(values.data);
  if (!data) throw new InputError('BAD_ARGUMENT', 'evaluate needs --data DIR');
  const labels = str(values.labels) ?? 'fer2013';
  if (labels !== 'fer2013' && labels !== 'ferplus')
    throw new InputError('BAD_ARGUMENT', '--labels must be fer2013 or ferplus');
  if (labels === 'ferplus' && !str(values['ferplus-csv']))
    throw new InputError('BAD_ARGUMENT', '--labels ferplus needs --ferplus-csv FILE');
  const tta = str(values.tta) ?? 'none';
  if (tta !== 'none' && tta !== 'flip') throw new InputError('BAD_ARGUMENT', '--tta must be none or flip');
  const model = str(values['emotion-model']) ?? 'human';
  const detector = values.detect ? detectorArg(values.detector) : undefined;
  const pool = await InferencePool.create({
    backend: backendArg(values.backend),
    workers: optionalInt('workers', values.workers, 1, 64),
  });
  try {
    const result = await evaluate(pool, {
      dataDir: data,
      labels,
      ferplusCsv: str(values['ferplus-csv']),
      model,
      tta,
      detector,
      outDir:
        str(values.out) ??
        join('eval-out', `${model.replace(/[^\w+-]/g, '_')}-${labels}${tta === 'flip' ? '-flip' : ''}`),
    });
    out(
      `faces/s=${result.facesPerSecond.toFixed(1)} skipped=${result.skipped} report=${str(values.out) ?? 'eval-out/'}`,
    );
    out(`accuracy=${result.accuracy.toFixed(4)} macro_f1=${result.macroF1.toFixed(4)} n=${result.n}`);
    return 0;
  } finally {
    await pool.close();
  }
}

/** `emostream bench-detect --data DIR [--detector D] [--out DIR]`: one summary line per detector. */
export async function benchDetectCommand(argv: string[], out: Out): Promise<number> {
  const { values } = parseCommand(argv, {
    data: { type: 'string' },
    detector: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
  });
  const data = str(values.data);
  if (!data) throw new InputError('BAD_ARGUMENT', 'bench-detect needs --data DIR');
  const detectors = values.detector ? [detectorArg(values.detector)] : [...DETECTOR_NAMES];
  // One worker: ms per image is what one stream sees.
  const pool = await InferencePool.create({ workers: 1, backend: backendArg(values.backend) });
  try {
    const results = await benchDetect(pool, { dataDir: data, detectors, outDir: str(values.out) ?? 'eval-out/detect' });
    for (const r of results) {
      out(
        `detector=${r.detector} ap50=${r.ap50.toFixed(4)} recall=${r.recall.toFixed(4)} ms=${Math.round(r.msPerImage)}`,
      );
    }
    return 0;
  } finally {
    await pool.close();
  }
}

/** `emostream explain IMAGE [--out FILE] [--emotion-model M] [--detector D]`: occlusion heatmaps per face. */
export async function explainCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    out: { type: 'string' },
    'emotion-model': { type: 'string' },
    detector: { type: 'string' },
    backend: { type: 'string' },
  });
  const [path] = positionals;
  if (!path) throw new InputError('BAD_ARGUMENT', 'explain needs an IMAGE');
  const model = str(values['emotion-model']) ?? 'human';
  const target = str(values.out) ?? `${basename(path, extname(path))}.explain.png`;
  const image = await decodeImage(path);
  const pool = await InferencePool.create({ workers: 1, backend: backendArg(values.backend) });
  try {
    const faces = await pool.detect(detectorArg(values.detector), image);
    const explained = [];
    for (const face of faces) explained.push(await explainFace(pool, model, image, face));
    mkdirSync(join(target, '..'), { recursive: true });
    explanationPng(explained, target);
    for (const e of explained) {
      out(JSON.stringify({ box: e.box, label: e.label, probability: Math.round(e.probability * 1e4) / 1e4 }));
    }
    out(`faces=${explained.length} out=${target}`);
    return 0;
  } finally {
    await pool.close();
  }
}
