import {
  type ResNetConfig,
  type ResNetFamily,
  type ResolvedResNetConfig,
  resolveResNetConfig,
} from './config';
import { ALEXNET_DEFAULTS, RESNET_DEFAULTS } from './defaults';
import { type BlockKind, CIFAR_EXAMPLE_DEPTHS, IMAGENET_DEPTHS } from './depths';
import { ResNetConfigError } from './errors';

/** The network families a model name can name. */
export type ModelFamily = ResNetFamily | 'alexnet';

/** What a model name implies when a run does not say: the input and the classes of the family's dataset. */
export interface ModelNameDefaults {
  /** 224x224 (imagenet), 32x32 (cifar), 227x227 (alexnet); 3 channels. */
  inputShape: [number, number, number];
  /** 1000 (ImageNet; AlexNet) or 10 (CIFAR-10). */
  numClasses: number;
}

/** A `resnet<depth>` name, with the builder options it is made with. */
export interface ResNetModelIdentity {
  kind: 'resnet';
  /** `resnet<depth>`. */
  name: string;
  depth: number;
  family: ResNetFamily;
  block: BlockKind;
  defaults: ModelNameDefaults;
  /** The validated builder config of `{ ...options, depth }` (what `buildResNet` would build). */
  resolved: ResolvedResNetConfig;
}

export interface AlexNetModelIdentity {
  kind: 'alexnet';
  name: 'alexnet';
  family: 'alexnet';
  defaults: ModelNameDefaults;
}

export type ModelIdentity = ResNetModelIdentity | AlexNetModelIdentity;

/** Builder options that come with a model name (`--model-options`): `family` and `block` change what a depth means. */
export type ModelNameOptions = Omit<Partial<ResNetConfig>, 'depth'> | Readonly<Record<string, unknown>>;

const RESNET_NAME = /^resnet(\d+)$/;
const ALEXNET = 'alexnet';

/** `resnet<depth>`. */
export const resnetName = (depth: number) => `resnet${depth}`;

/** ImageNet ResNets, then He et al.'s CIFAR ResNets (6n+2), then AlexNet: names that build without options. */
export const MODEL_NAMES: readonly string[] = [
  ...Object.keys(IMAGENET_DEPTHS).map((depth) => resnetName(Number(depth))),
  ...CIFAR_EXAMPLE_DEPTHS.basic.map(resnetName),
  ALEXNET,
];

/**
 * The accepted model names in one line, for help texts and errors: `resnet10, resnet18, …,
 * resnet200 (ImageNet); resnet<6n+2> (CIFAR: resnet20, …); resnet<9n+2> with block 'bottleneck'
 * (CIFAR: resnet29, …); alexnet`.
 */
export function describeModelNames(): string {
  const imagenet = Object.keys(IMAGENET_DEPTHS).map((depth) => resnetName(Number(depth)));
  const cifar = (block: BlockKind) => `${CIFAR_EXAMPLE_DEPTHS[block].map(resnetName).join(', ')}, …`;
  return [
    `${imagenet.join(', ')} (ImageNet)`,
    `resnet<6n+2> (CIFAR: ${cifar('basic')})`,
    `resnet<9n+2> with block 'bottleneck' (CIFAR: ${cifar('bottleneck')})`,
    ALEXNET,
  ].join('; ');
}

/** Whether `name` has the form of a model name (`resnet<digits>` or `alexnet`); {@link parseModelName} checks the depth. */
export const isModelName = (name: unknown): name is string =>
  typeof name === 'string' && (name === ALEXNET || RESNET_NAME.test(name));

/** Fields whose errors mean the name (with its family and block) names no network. */
const IDENTITY_FIELDS = ['depth', 'family', 'block'];

/**
 * The network a model name names, with the builder options it is made with (`family` and `block`
 * decide what a depth means: `resnet29` needs `block: 'bottleneck'`), and the defaults the name
 * implies. Accepts `resnet<depth>` for the ImageNet depths (10, 18, 34, 50, 101, 152, 200) and the
 * CIFAR depths (6n+2 basic; 9n+2 with `block: 'bottleneck'`), and `alexnet`. Throws a
 * `ResNetConfigError` (field `model`) that names the bad name and lists what is accepted;
 * a bad option is named after the model (`model: resnet20: width: …`).
 */
export function parseModelName(name: string, options: ModelNameOptions = {}): ModelIdentity {
  if (name === ALEXNET) {
    const [height, width, channels] = ALEXNET_DEFAULTS.inputShape;
    return {
      kind: 'alexnet',
      name: ALEXNET,
      family: 'alexnet',
      defaults: { inputShape: [height, width, channels], numClasses: ALEXNET_DEFAULTS.numClasses },
    };
  }
  const match = typeof name === 'string' ? RESNET_NAME.exec(name) : null;
  if (!match) {
    throw new ResNetConfigError(
      'model',
      `expected resnet<depth> or alexnet, got ${JSON.stringify(name)}; accepted: ${describeModelNames()}`,
    );
  }
  const depth = Number(match[1]);
  let resolved: ResolvedResNetConfig;
  try {
    resolved = resolveResNetConfig({ ...options, depth } as ResNetConfig);
  } catch (error) {
    if (!(error instanceof ResNetConfigError)) throw error;
    const accepted = IDENTITY_FIELDS.includes(error.field) ? `; accepted: ${describeModelNames()}` : '';
    throw new ResNetConfigError('model', `${name}: ${error.message}${accepted}`);
  }
  const family = RESNET_DEFAULTS.families[resolved.family];
  const [height, width, channels] = family.inputShape;
  return {
    kind: 'resnet',
    name: resnetName(depth),
    depth,
    family: resolved.family,
    block: resolved.block,
    defaults: { inputShape: [height, width, channels], numClasses: family.datasetClasses },
    resolved,
  };
}
