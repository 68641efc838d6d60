import { zipSync } from 'fflate';
import { convertWeights } from './convert';
import { UnsafePickleError } from './errors';
import { readSafetensors } from './formats/safetensors';
import type { SourceTensor } from './tensors';
import { encodeSafetensors, fixtureBytes } from './testing';

// Each bad input is one WeightFileError line naming the file and what is wrong; nothing is built or run.
const convert =
  (bytes: Uint8Array, from: 'torchvision' | 'keras' = 'torchvision', depth?: number) =>
  () =>
    convertWeights(bytes, 'weights.bin', { from, depth });

const stateDict = () => readSafetensors(fixtureBytes('tv_resnet20_b.safetensors'), 'fixture');

describe('bad weight files', () => {
  it('a truncated safetensors file', () => {
    const bytes = fixtureBytes('tv_resnet20_b.safetensors');
    expect(convert(bytes.subarray(0, bytes.length - 1000))).toThrow(
      /^weights\.bin: truncated: tensor \S+ ends at byte \d+ of the data, the file holds \d+$/,
    );
    expect(convert(bytes.subarray(0, 100))).toThrow(/truncated: the header needs \d+ bytes/);
  });

  it('a truncated .pth file', () => {
    const bytes = fixtureBytes('tv_resnet8_a.pth');
    expect(convert(bytes.subarray(0, bytes.length / 2))).toThrow(
      /^weights\.bin: the zip archive is damaged or truncated/,
    );
  });

  it('a pickle that asks for code is refused, naming the global, and nothing runs', () => {
    const run = convert(fixtureBytes('code.pth'));
    expect(run).toThrow(UnsafePickleError);
    expect(run).toThrow(
      /^weights\.bin: the pickle asks for posix\.system, which would run code; only tensor data is read \(refused, nothing was run\): save a state dict/,
    );
  });

  it('a state dict of another depth names what the file holds', () => {
    expect(convert(fixtureBytes('tv_resnet20_b.safetensors'), 'torchvision', 56)).toThrow(
      /^weights\.bin: holds a CIFAR ResNet-20 \(basic blocks 3, 3, 3\), not resnet56$/,
    );
    expect(convert(fixtureBytes('keras_resnet50_w16.weights.h5'), 'keras', 101)).toThrow(
      /holds a ResNet-50 \(bottleneck blocks 3, 4, 6, 3\), not resnet101/,
    );
  });

  it('an HDF5 file of another model', () => {
    expect(convert(fixtureBytes('keras_other.weights.h5'), 'keras')).toThrow(
      /^weights\.bin: holds layers .*block1_conv1.*: not a Keras ResNet \(no conv1_conv layer\)$/,
    );
  });

  it('a file of the other framework says which --from reads it', () => {
    expect(convert(fixtureBytes('keras_resnet8_b.keras'), 'torchvision')).toThrow(
      /is a \.keras archive.*; use --from keras/,
    );
    expect(convert(fixtureBytes('tv_resnet8_a.pth'), 'keras')).toThrow(
      /is a PyTorch file.*; use --from torchvision or timm/,
    );
    expect(convert(new Uint8Array(0))).toThrow(/^weights\.bin: the file is empty$/);
    expect(convert(new TextEncoder().encode('hello, this is text'))).toThrow(/not a weight file read here/);
  });

  it('a missing, extra or mis-shaped tensor is named', () => {
    const missing = stateDict();
    missing.delete('layer2.1.bn2.running_var');
    expect(convert(encodeSafetensors(missing))).toThrow(
      /does not fit resnet20: missing layer2\.1\.bn2\.running_var$/,
    );

    const extra = stateDict();
    extra.set('layer9.extra.weight', { dtype: 'float32', shape: [2], values: new Float32Array(2) });
    expect(convert(encodeSafetensors(extra))).toThrow(
      /does not fit resnet20: unexpected layer9\.extra\.weight$/,
    );

    const misshaped = stateDict();
    const bn = misshaped.get('layer3.0.bn1.weight') as SourceTensor;
    misshaped.set('layer3.0.bn1.weight', { ...bn, shape: [32], values: new Float32Array(32) });
    expect(convert(encodeSafetensors(misshaped))).toThrow(
      /does not fit resnet20: layer3\.0\.bn1\.weight is \[32\] where resnet20 needs \[64\]$/,
    );
  });

  it('a whole pickled model (not a state dict) is refused', () => {
    // torch.save(model): the pickle names the model's class.
    const pickle = new Uint8Array([
      0x80,
      0x02,
      ...new TextEncoder().encode('ctorchvision.models.resnet\nResNet\n'),
      0x29,
      0x81,
      0x2e,
    ]);
    const archive = zipSync({ 'resnet/data.pkl': pickle, 'resnet/version': new TextEncoder().encode('3\n') });
    expect(convert(archive)).toThrow(
      /^weights\.bin: the pickle asks for torchvision\.models\.resnet\.ResNet, which would run code.*torch\.save\(model\.state_dict\(\), path\)/,
    );
  });

  it('a legacy (pre-1.6) torch.save file and a TorchScript archive say how to re-save', () => {
    expect(
      convert(new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8])),
    ).toThrow(/legacy \(pre-1\.6\) format/);
    const script = zipSync({
      'm/constants.pkl': new Uint8Array([0x80, 0x02, 0x29, 0x2e]),
      'm/code/x.py': new Uint8Array(1),
    });
    expect(convert(script)).toThrow(/a TorchScript archive \(torch\.jit\.save\)/);
  });
});
