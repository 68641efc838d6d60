"""Writes the interop test fixtures with the real frameworks (PyTorch + torchvision + timm, or Keras).

    python make-fixtures.py torch <out dir>   # in ../shared/peers' torch environment
    python make-fixtures.py keras <out dir>   # in its tf environment

Every net has random weights and random batch-norm statistics (so folding and epsilon matter), is
saved in its framework's own format, and beside it `<name>.io.safetensors` holds a seeded NHWC input
and the framework's logits for it (eval mode). make-fixtures.sh runs both.
"""
import os
import sys

import numpy as np

kind, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def io_file(name, x_nhwc, logits):
    from safetensors.numpy import save_file

    save_file({'input': np.ascontiguousarray(x_nhwc, np.float32), 'logits': np.ascontiguousarray(logits, np.float32)},
              os.path.join(out, f'{name}.io.safetensors'))


if kind == 'torch':
    import types
    import warnings

    import torch
    from torch import nn
    from torch.nn import functional as F

    # The torchvision wheel that matches torch 2.13 here is a CUDA build whose C++ ops cannot load
    # against the CPU torch; the model code needs none of them, only their meta registrations fail.
    sys.modules['torchvision._meta_registrations'] = types.ModuleType('torchvision._meta_registrations')
    warnings.simplefilter('ignore')
    import timm.models.resnet as timm_resnet
    from safetensors.torch import save_file
    from torchvision.models import resnet as tv

    torch.manual_seed(0)

    def randomise_bn(model):
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
        return model.eval()

    def run(model, x_nhwc):
        with torch.no_grad():
            return model(torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()).numpy()

    class PadShortcut(nn.Module):
        """Option A (He et al. 2015): subsample by 2, zero-pad the new channels equally on both sides."""

        def __init__(self, planes):
            super().__init__()
            self.pad = planes // 4

        def forward(self, x):
            return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))

    class CifarResNet(nn.Module):
        """He et al.'s CIFAR ResNet-(6n+2) with torchvision's BasicBlock and torchvision's names."""

        def __init__(self, n, shortcut, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            inplanes = 16
            for i, planes in enumerate([16, 32, 64]):
                blocks = []
                for b in range(n):
                    stride = 2 if (i > 0 and b == 0) else 1
                    down = None
                    if stride != 1 or inplanes != planes:
                        down = PadShortcut(planes) if shortcut == 'A' else nn.Sequential(
                            nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
                    blocks.append(tv.BasicBlock(inplanes, planes, stride, down))
                    inplanes = planes
                setattr(self, f'layer{i + 1}', nn.Sequential(*blocks))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class NarrowResNet(tv.ResNet):
        """torchvision's ResNet with every stage's planes divided (the stem keeps 64 channels)."""

        def __init__(self, block, layers, divide, num_classes):
            self.divide = divide
            super().__init__(block, layers, num_classes=num_classes)
            self.fc = nn.Linear(512 // divide * block.expansion, num_classes)

        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            return super()._make_layer(block, planes // self.divide, blocks, stride, dilate)

    cifar = rng.uniform(-2, 2, (2, 32, 32, 3)).astype(np.float32)
    small = rng.uniform(-2, 2, (2, 64, 64, 3)).astype(np.float32)

    m = randomise_bn(CifarResNet(3, 'B'))
    save_file(m.state_dict(), os.path.join(out, 'tv_resnet20_b.safetensors'))
    io_file('tv_resnet20_b', cifar, run(m, cifar))

    m = randomise_bn(CifarResNet(1, 'A'))
    torch.save(m.state_dict(), os.path.join(out, 'tv_resnet8_a.pth'))
    io_file('tv_resnet8_a', cifar, run(m, cifar))

    m = randomise_bn(NarrowResNet(tv.Bottleneck, [3, 4, 6, 3], 16, 10))
    torch.save(m.state_dict(), os.path.join(out, 'tv_resnet50_w16.pth'))
    io_file('tv_resnet50_w16', small, run(m, small))

    m = randomise_bn(timm_resnet.ResNet(timm_resnet.BasicBlock, [2, 2, 2, 2], channels=(4, 8, 16, 32), num_classes=7))
    save_file(m.state_dict(), os.path.join(out, 'timm_resnet18_w16.safetensors'))
    io_file('timm_resnet18_w16', small, run(m, small))

    # Pretrained weights for the fine-tuning test: a ResNet-8 (option A) trained on oriented gratings
    # (8 orientations, 22.5 degrees apart), seen through torchvision's ImageNet normalisation, as a
    # converted model's preprocessing records it. The test fine-tunes on orientations between these.
    def gratings(angles, per_class, seed):
        g = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
        images, labels = [], []
        for label, angle in enumerate(angles):
            for _ in range(per_class):
                theta = np.deg2rad(angle + g.uniform(-4, 4))
                wave = np.sin(2 * np.pi * g.uniform(0.08, 0.2) * (xx * np.cos(theta) + yy * np.sin(theta)) + g.uniform(0, 2 * np.pi))
                v = (0.5 + 0.5 * g.uniform(0.6, 1.0) * wave)[..., None]
                c1, c2 = g.uniform(0, 1, 3), g.uniform(0, 1, 3)
                img = np.clip(c1 * (1 - v) + c2 * v + g.normal(0, 0.05, (32, 32, 3)), 0, 1)
                images.append(np.round(img * 255) / 255)
                labels.append(label)
        return np.stack(images).astype(np.float32), np.array(labels)

    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    images, labels = gratings([22.5 * k for k in range(8)], 250, 1)
    x = torch.from_numpy(((images - mean) / std).transpose(0, 3, 1, 2).copy())
    y = torch.from_numpy(labels)
    m = CifarResNet(1, 'A', num_classes=8)
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    m.train()
    for step in range(600):
        batch = torch.randint(0, len(x), (64,), generator=torch.Generator().manual_seed(step))
        loss = F.cross_entropy(m(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        test_x, test_y = gratings([22.5 * k for k in range(8)], 25, 2)
        accuracy = (m(torch.from_numpy(((test_x - mean) / std).transpose(0, 3, 1, 2).copy())).argmax(1).numpy() == test_y).mean()
    print(f'gratings pretraining: final loss {loss.item():.3f}, held-out accuracy {accuracy:.3f}')
    save_file(m.state_dict(), os.path.join(out, 'tv_resnet8_gratings.safetensors'))

    class Exploit:
        def __reduce__(self):
            return (os.system, ('echo this pickle runs code',))

    torch.save({'conv1.weight': torch.zeros(1), 'payload': Exploit()}, os.path.join(out, 'code.pth'))

elif kind == 'keras':
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import keras
    from keras import layers
    from keras.src.applications import resnet

    keras.utils.set_random_seed(0)

    def randomise_bn(model):
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                c = layer.gamma.shape[0]
                layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c),
                                   rng.uniform(-0.5, 0.5, c), rng.uniform(0.5, 2.0, c)])
        return model

    def cifar_resnet(n, num_classes=10):
        """A CIFAR ResNet-(6n+2), option B, in Keras's layout (names and HWIO kernels) as resnet-core builds it."""
        bn = dict(axis=3, epsilon=1.001e-5)
        x = inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(16, 3, padding='same', use_bias=False, name='conv1_conv')(x)
        x = layers.BatchNormalization(**bn, name='conv1_bn')(x)
        x = layers.Activation('relu', name='conv1_relu')(x)
        channels = 16
        for s, filters in enumerate([16, 32, 64]):
            for b in range(n):
                name = f'conv{s + 2}_block{b + 1}'
                stride = 2 if (s > 0 and b == 0) else 1
                shortcut = x
                if stride == 2:  # symmetric padding, as torchvision's padding=1
                    y = layers.ZeroPadding2D(1, name=f'{name}_1_pad')(x)
                    y = layers.Conv2D(filters, 3, strides=2, use_bias=False, name=f'{name}_1_conv')(y)
                else:
                    y = layers.Conv2D(filters, 3, padding='same', use_bias=False, name=f'{name}_1_conv')(x)
                y = layers.BatchNormalization(**bn, name=f'{name}_1_bn')(y)
                y = layers.Activation('relu', name=f'{name}_1_relu')(y)
                if stride != 1 or channels != filters:
                    shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f'{name}_0_conv')(x)
                    shortcut = layers.BatchNormalization(**bn, name=f'{name}_0_bn')(shortcut)
                y = layers.Conv2D(filters, 3, padding='same', use_bias=False, name=f'{name}_2_conv')(y)
                y = layers.BatchNormalization(**bn, name=f'{name}_2_bn')(y)
                x = layers.Add(name=f'{name}_add')([shortcut, y])
                x = layers.Activation('relu', name=f'{name}_out')(x)
                channels = filters
        x = layers.GlobalAveragePooling2D(name='avg_pool')(x)
        x = layers.Dense(num_classes, name='predictions')(x)
        return keras.Model(inputs, x, name='resnet8')

    def narrow_resnet50(divide, num_classes):
        """keras.applications' ResNet50 (stride on the 1x1, conv biases) with every stage's filters divided."""
        def stack_fn(x):
            x = resnet.stack_residual_blocks_v1(x, 64 // divide, 3, stride1=1, name='conv2')
            x = resnet.stack_residual_blocks_v1(x, 128 // divide, 4, name='conv3')
            x = resnet.stack_residual_blocks_v1(x, 256 // divide, 6, name='conv4')
            return resnet.stack_residual_blocks_v1(x, 512 // divide, 3, name='conv5')
        return resnet.ResNet(stack_fn, False, True, name='resnet50', weights=None, input_shape=(64, 64, 3),
                             classes=num_classes, classifier_activation=None)

    cifar = rng.uniform(-2, 2, (2, 32, 32, 3)).astype(np.float32)
    small = rng.uniform(-2, 2, (2, 64, 64, 3)).astype(np.float32)

    m = randomise_bn(cifar_resnet(1))
    m.save(os.path.join(out, 'keras_resnet8_b.keras'))
    io_file('keras_resnet8_b', cifar, m.predict(cifar, verbose=0))

    m = randomise_bn(narrow_resnet50(16, 10))
    m.save_weights(os.path.join(out, 'keras_resnet50_w16.weights.h5'))
    m.save(os.path.join(out, 'keras_resnet50_w16.h5'))
    io_file('keras_resnet50_w16', small, m.predict(small, verbose=0))

    # An HDF5 file of another model (VGG-style names): what a wrong download looks like.
    other = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(4, 3, name='block1_conv1'),
                              layers.GlobalAveragePooling2D(name='pool'), layers.Dense(3, name='fc1')], name='vgg_like')
    other.save_weights(os.path.join(out, 'keras_other.weights.h5'))
else:
    sys.exit(f'usage: {sys.argv[0]} torch|keras <out dir>')
