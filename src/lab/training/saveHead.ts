import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type LayersModel = import('@tensorflow/tfjs').LayersModel;

export const HEAD_FILES = ['model.json', 'weights.bin'] as const;

/** Writes a head as `model.json` + `weights.bin` in `dir` (tfjs layers format, weights in one shard). */
export async function saveHead(model: LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save({
    save: async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      writeFileSync(join(dir, HEAD_FILES[1]), Buffer.from(data));
      const json = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [HEAD_FILES[1]], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, HEAD_FILES[0]), `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    },
  });
}
