import {
  compose,
  cutmix,
  decodeImage,
  mixup,
  type Pipeline,
  type PipelineSpec,
  type RgbImage,
  sampleRandom,
} from '@resnet-ts/augment';
import type { ImageDataset } from './data/dataset';

/** What a batch is assembled from: in-memory pixels (shared with workers) or image files. */
export type BatchSource =
  | { kind: 'memory'; images: Uint8Array; height: number; width: number }
  | { kind: 'files'; files: string[] };

/** What the loader reads for a dataset: its pixels (memory) or its files. */
export function batchSource(dataset: ImageDataset): BatchSource {
  return dataset.kind === 'memory'
    ? { kind: 'memory', images: dataset.images, height: dataset.height, width: dataset.width }
    : { kind: 'files', files: dataset.files };
}

/** How inputs are made: augmentation for training, the deterministic part for evaluation. */
export interface Preprocessing {
  train: PipelineSpec;
  eval: PipelineSpec;
  /** Network input [height, width]; every pipeline must produce this size. */
  inputSize: [number, number];
}

export interface BatchTask {
  mode: 'train' | 'eval';
  seed: number;
  epoch: number;
  indices: Int32Array;
  /** Batch-level MixUp/CutMix (training): mixes inputs and one-hot targets of this batch. */
  mix?: BatchMix;
}

export interface BatchMix {
  /** Beta(α, α) of MixUp; CutMix's. When both are set, each batch uses one of them (50/50). */
  mixup?: number;
  cutmix?: number;
  labels: Int32Array;
  classes: number;
  /** Position of the batch in its epoch: with (seed, epoch) it fixes the batch's randomness. */
  batch: number;
}

export interface AssembledBatch {
  /** NHWC float32 inputs. */
  x: Float32Array;
  /** Soft targets (N × classes) when the batch was mixed. */
  targets?: Float32Array;
}

/** MixUp or CutMix on an assembled batch; randomness from (seed, epoch, batch) only. */
function mixBatch(
  x: Float32Array,
  mix: BatchMix,
  seed: number,
  epoch: number,
  [height, width]: [number, number],
): AssembledBatch {
  const n = mix.labels.length;
  const labels = new Float32Array(n * mix.classes);
  mix.labels.forEach((label, i) => {
    labels[i * mix.classes + label] = 1;
  });
  const random = sampleRandom(seed, epoch, -1_000_000 - mix.batch);
  const useCutmix = mix.cutmix !== undefined && (mix.mixup === undefined || random() < 0.5);
  const batch = {
    images: x,
    labels,
    shape: [n, height, width, 3] as [number, number, number, number],
    classes: mix.classes,
  };
  const mixed = useCutmix
    ? cutmix(batch, mix.cutmix as number, random)
    : mixup(batch, mix.mixup as number, random);
  return { x: mixed.images, targets: mixed.labels };
}

/** Builds batches; one instance per thread. */
export class BatchAssembler {
  private readonly source: BatchSource;
  private readonly preprocessing: Preprocessing;
  private readonly pipelines: Record<'train' | 'eval', Pipeline>;

  constructor(source: BatchSource, preprocessing: Preprocessing) {
    this.source = source;
    this.preprocessing = preprocessing;
    this.pipelines = { train: compose(preprocessing.train), eval: compose(preprocessing.eval) };
  }

  private async image(index: number): Promise<RgbImage> {
    if (this.source.kind === 'files') return decodeImage(this.source.files[index] as string);
    const { height, width, images } = this.source;
    const size = height * width * 3;
    return { data: images.subarray(index * size, (index + 1) * size), height, width, channels: 3 };
  }

  private describe(index: number): string {
    return this.source.kind === 'files' ? (this.source.files[index] as string) : `sample ${index}`;
  }

  /** NHWC float32 inputs for `task.indices`; each sample's randomness is (seed, epoch, index). */
  async assemble(task: BatchTask): Promise<AssembledBatch> {
    const [height, width] = this.preprocessing.inputSize;
    const size = height * width * 3;
    const out = new Float32Array(task.indices.length * size);
    const pipeline = this.pipelines[task.mode];
    await Promise.all(
      Array.from(task.indices, async (index, k) => {
        const { image, values } = await pipeline(await this.image(index), {
          seed: task.seed,
          epoch: task.epoch,
          index,
        });
        if (image.height !== height || image.width !== width) {
          throw new Error(
            `${this.describe(index)}: the ${task.mode} pipeline made ${image.width}×${image.height}, the model takes ${width}×${height}; add a resize/crop step`,
          );
        }
        if (values) out.set(values, k * size);
        else for (let i = 0; i < size; i++) out[k * size + i] = image.data[i] as number;
      }),
    );
    const single = task.mix && task.indices.length < 2; // nothing to mix with
    return task.mix && !single ? mixBatch(out, task.mix, task.seed, task.epoch, [height, width]) : { x: out };
  }
}
