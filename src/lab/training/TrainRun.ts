import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { EMOTION_LABELS } from '../../core/labels.js';
import type { RgbImage } from '../../core/types.js';
import { type Backbone, type BackboneName, loadBackbone } from '../../inference/Backbone.js';
import { ModelRunner } from '../../inference/ModelRunner.js';
import { writeOnnxModel } from '../onnx/writeOnnxModel.js';
import { ProgressBar } from '../ProgressBar.js';
import { concatSets, extraView, sampleImages, syntheticMaskSets } from './ExtraViews.js';
import { DEFAULT_CACHE_DIR } from './FeatureCache.js';
import { type ExtractOptions, extractFeatures } from './FeatureExtractor.js';
import { classWeights, type EpochStats, type FeatureSet, predictHead, trainHead } from './HeadTrainer.js';
import { SeededRandom, stratifiedSplit } from './SeededRandom.js';
import { applyStandardise, foldStandardisation, standardise } from './Standardisation.js';
import { SurgicalMask } from './SurgicalMask.js';
import { HEAD_FILES, saveHead } from './saveHead.js';
import { writeTrainingCurve } from './TrainingCurve.js';
import { applyFerPlusLabels, type LabelledImage, MASK_CLASSES, readFolderDataset } from './TrainingSet.js';

export interface TrainOptions {
  /** Decodes an image file to RGB (`decodeImage` from src/media). */
  decode: (path: string) => Promise<RgbImage>;
  data: string;
  out: string;
  kind: 'emotion' | 'mask';
  backbones: BackboneName[];
  labels: 'fer2013' | 'ferplus';
  ferplusCsv?: string;
  epochs: number;
  valSplit: number;
  /** Part of the data held back from training and validation, scored once at the end (0: none). */
  testSplit: number;
  seed: number;
  hidden: number;
  dropout: number;
  learningRate: number;
  batchSize: number;
  patience: number;
  /** Class-weight exponent: 1 balanced, 0.5 softened, 0 none. */
  classWeightPower: number;
  /** Add the features of mirrored images to the training set. */
  mirror: boolean;
  /** Average the head over the crop and its mirror at inference (costs the backbones twice). */
  ttaFlip: boolean;
  /** Add features of the training images with a surgical mask drawn from 68-point landmarks (masked faces). */
  maskAugment?: boolean;
  /** Also train on the crops degraded to this many pixels a side (small, far faces look like that). */
  lowRes?: number;
  /**
   * Mask heads: face crops from this folder (recursively, at most `limit`) added as `without_mask` and, with a drawn
   * mask of varied colour, as `with_mask`.
   */
  syntheticMasks?: { dir: string; limit: number };
  /** Run this face detector first and train on its crops (full photos); none for FER-style face crops. */
  detector?: string;
  cacheDir?: string;
  /** Progress output (stderr in the CLI). */
  progress: NodeJS.WriteStream;
  command?: string;
}

export interface TrainSummary {
  valAccuracy: number;
  heldOutAccuracy?: number;
  bestEpoch: number;
  history: EpochStats[];
  /** Images of the data set in each part; `synthetic`: rows from `--synthetic-masks` (each face twice). */
  counts: { train: number; val: number; heldOut: number; skipped: number; synthetic?: { train: number; val: number } };
  outDir: string;
}

export const CROP_SIZE = 112;
const CROP_MARGIN = 0.25;

/**
 * `emostream train`: features from frozen backbones (cached on disk), a dense head trained on them with class
 * weights, mirror augmentation and early stopping on a seeded stratified validation split; writes the model
 * folder (manifest, head weights, training curve).
 */
export async function runTraining(options: TrainOptions): Promise<TrainSummary> {
  if (options.syntheticMasks && options.kind !== 'mask') {
    throw new AppError('BAD_ARGUMENT', '--synthetic-masks is for mask heads (--kind mask)');
  }
  const classes = options.kind === 'emotion' ? [...EMOTION_LABELS] : [...MASK_CLASSES];
  let images: LabelledImage[] = readFolderDataset(options.data, options.kind);
  if (options.kind === 'emotion' && options.labels === 'ferplus') {
    if (!options.ferplusCsv) throw new AppError('BAD_ARGUMENT', '--labels ferplus needs --ferplus-csv FILE');
    images = applyFerPlusLabels(images, options.ferplusCsv);
  }
  // tfjs: the backbones' features are computed on tfjs (the feature cache keys assume it).
  const runner = await ModelRunner.create({ engine: 'tfjs' });
  const backbones: Backbone[] = [];
  try {
    for (const name of options.backbones) backbones.push(await loadBackbone(name));
    const detector = options.detector;
    const extract: Omit<ExtractOptions, 'mirrored'> = {
      decode: options.decode,
      cropSize: CROP_SIZE,
      cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR,
      detect: detector
        ? {
            name: detector,
            margin: CROP_MARGIN,
            find: async (image: RgbImage) => (await runner.detect(detector, image))[0],
          }
        : undefined,
    };
    const paths = images.map((i) => i.path);
    const bar = new ProgressBar(options.progress, 'features');
    const plain = await extractFeatures(paths, backbones, {
      ...extract,
      mirrored: false,
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.line(paths.length, paths.length, `(${plain.hits} cached, ${plain.misses} computed)`);
    let flipped: typeof plain | undefined;
    if (options.mirror || options.ttaFlip) {
      const barM = new ProgressBar(options.progress, 'features (mirrored)');
      flipped = await extractFeatures(paths, backbones, {
        ...extract,
        mirrored: true,
        onProgress: (d, t) => barM.update(d, t),
      });
      barM.line(paths.length, paths.length, `(${flipped.hits} cached, ${flipped.misses} computed)`);
    }
    // Images where the detector found no face have no row; keep those with a row in every view.
    const rowOf = new Map(plain.kept.map((img, row) => [img, row]));
    const rowOfM = new Map((flipped?.kept ?? []).map((img, row) => [img, row]));
    const usable = plain.kept.filter((i) => !flipped || rowOfM.has(i));
    const labels = usable.map((i) => (images[i] as LabelledImage).label);
    const rng = new SeededRandom(options.seed);
    const [rest, heldOut] = stratifiedSplit(labels, options.testSplit, rng);
    const restLabels = rest.map((k) => labels[k] as number);
    const [trainK, valK] = stratifiedSplit(restLabels, options.valSplit, rng);
    const pick = (ks: number[]) => ks.map((k) => usable[rest[k] as number] as number);
    const trainImgs = pick(trainK);
    const valImgs = pick(valK);
    const heldImgs = heldOut.map((k) => usable[k] as number);
    const dim = plain.dim;
    const set = (imgs: number[], views: ('plain' | 'mirror')[]): FeatureSet => {
      const data = new Float32Array(imgs.length * views.length * dim);
      const lab = new Int32Array(imgs.length * views.length);
      let r = 0;
      for (const view of views) {
        const src = view === 'plain' ? plain.data : (flipped as typeof plain).data;
        const map = view === 'plain' ? rowOf : rowOfM;
        for (const img of imgs) {
          const row = map.get(img) as number;
          data.set(src.subarray(row * dim, (row + 1) * dim), r * dim);
          lab[r++] = (images[img] as LabelledImage).label;
        }
      }
      return { data, labels: lab, dim };
    };
    let train = set(trainImgs, options.mirror ? ['plain', 'mirror'] : ['plain']);
    let val = set(valImgs, ['plain']);
    const trainPaths = trainImgs.map((i) => paths[i] as string);
    const trainLabels = trainImgs.map((i) => (images[i] as LabelledImage).label);
    const { progress } = options;
    if (options.maskAugment) {
      const masker = SurgicalMask.load();
      try {
        const view = { ...extract, mirrored: false, transform: masker };
        train = concatSets(train, await extraView(trainPaths, trainLabels, backbones, view, 'masked', progress));
      } finally {
        masker.dispose();
      }
    }
    let synthetic: { train: number; val: number } | undefined;
    if (options.syntheticMasks) {
      const masker = SurgicalMask.load({ varied: true });
      try {
        const faces = sampleImages(options.syntheticMasks.dir, options.syntheticMasks.limit);
        const { detect: _, ...view } = extract;
        const synth = await syntheticMaskSets(faces, backbones, view, masker, options.valSplit, rng, progress);
        train = concatSets(train, synth.train);
        val = concatSets(val, synth.val);
        synthetic = { train: synth.train.labels.length, val: synth.val.labels.length };
      } finally {
        masker.dispose();
      }
    }
    if (options.lowRes) {
      const view = { ...extract, mirrored: false, lowRes: options.lowRes };
      train = concatSets(train, await extraView(trainPaths, trainLabels, backbones, view, 'low-res', progress));
    }
    const { mean, std } = standardise(train);
    val = applyStandardise(val, mean, std);
    const weights = classWeights(train.labels, classes.length, options.classWeightPower);
    const epochBar = new ProgressBar(options.progress, 'epoch');
    const result = await trainHead(
      { inputDim: dim, classes: classes.length, hidden: options.hidden, dropout: options.dropout },
      train,
      val,
      {
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        patience: options.patience,
        seed: rng.int(),
        classWeights: weights,
      },
      (s) =>
        epochBar.line(
          s.epoch,
          options.epochs,
          `loss=${s.loss.toFixed(4)} acc=${s.accuracy.toFixed(4)} val_loss=${s.valLoss.toFixed(4)} val_acc=${s.valAccuracy.toFixed(4)}`,
        ),
    );
    foldStandardisation(result.model, mean, std);
    const score = (imgs: number[]): number => {
      if (imgs.length === 0) return Number.NaN;
      const views: ('plain' | 'mirror')[] = options.ttaFlip ? ['plain', 'mirror'] : ['plain'];
      const s = set(imgs, views);
      const probs = predictHead(result.model, s.data, dim);
      const k = classes.length;
      let correct = 0;
      for (let i = 0; i < imgs.length; i++) {
        let best = 0;
        let bestP = -1;
        for (let c = 0; c < k; c++) {
          let p = 0;
          for (let v = 0; v < views.length; v++) p += probs[(v * imgs.length + i) * k + c] as number;
          if (p > bestP) {
            bestP = p;
            best = c;
          }
        }
        if (best === (images[imgs[i] as number] as LabelledImage).label) correct++;
      }
      return correct / imgs.length;
    };
    const valAccuracy = score(valImgs);
    const heldOutAccuracy = heldImgs.length > 0 ? score(heldImgs) : undefined;
    const outDir = resolve(options.out);
    await saveHead(result.model, outDir);
    result.model.dispose();
    const name = outDir.split('/').pop() ?? 'head';
    const manifest = {
      name,
      kind: options.kind,
      runtime: 'head',
      description: `${options.kind} head trained with emostream train on frozen ${options.backbones.join('+')} features`,
      origin: { trainedBy: 'emostream train', license: 'MIT' },
      files: [...HEAD_FILES],
      input: { size: CROP_SIZE, colour: 'rgb' },
      labels: classes,
      outputs: 'probabilities',
      crop: { margin: CROP_MARGIN },
      backbones: options.backbones,
      training: {
        command: options.command,
        data: options.data,
        labels: options.kind === 'emotion' ? options.labels : 'folders',
        detector: options.detector ?? null,
        seed: options.seed,
        epochs: options.epochs,
        bestEpoch: result.bestEpoch,
        valSplit: options.valSplit,
        heldOutSplit: options.testSplit,
        head: {
          hidden: options.hidden,
          dropout: options.dropout,
          learningRate: options.learningRate,
          batchSize: options.batchSize,
        },
        classWeights: weights.map((w) => Math.round(w * 1e4) / 1e4),
        augmentation: [
          ...(options.mirror ? ['mirror'] : []),
          ...(options.maskAugment ? ['surgical-mask'] : []),
          ...(options.lowRes ? [`low-res-${options.lowRes}`] : []),
        ],
        syntheticMasks: options.syntheticMasks ?? null,
        tta: options.ttaFlip ? 'flip' : 'none',
        backboneKeys: Object.fromEntries(backbones.map((b) => [b.name, b.key])),
        counts: {
          train: trainImgs.length,
          val: valImgs.length,
          heldOut: heldImgs.length,
          skipped: paths.length - usable.length,
          ...(synthetic ? { synthetic } : {}),
        },
        metrics: {
          valAccuracy: round4(valAccuracy),
          heldOutAccuracy: heldOutAccuracy === undefined ? null : round4(heldOutAccuracy),
        },
      },
    };
    writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // The same head for the onnx engine: model.onnx and the manifest's onnx entry (docs/models.md, "ONNX").
    writeOnnxModel(outDir);
    writeTrainingCurve(
      join(outDir, 'training-curve.png'),
      result.history,
      result.bestEpoch,
      `${name}: ${options.backbones.join('+')} head`,
    );
    return {
      valAccuracy,
      heldOutAccuracy,
      bestEpoch: result.bestEpoch,
      history: result.history,
      counts: manifest.training.counts,
      outDir,
    };
  } finally {
    for (const b of backbones) b.dispose();
    await runner.close();
  }
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
