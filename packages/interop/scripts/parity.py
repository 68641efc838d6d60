"""Full-size ResNet-50 weights with random values and random batch-norm statistics, and their logits.

    python parity.py torch <dir>   # torchvision resnet50: .safetensors and .pth
    python parity.py keras <dir>   # keras.applications ResNet50: .h5 and .weights.h5
"""
import os
import sys

import numpy as np

kind, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
x = rng.uniform(-2, 2, (2, 224, 224, 3)).astype(np.float32)


def save_io(name, logits):
    from safetensors.numpy import save_file

    save_file({'input': x, 'logits': np.ascontiguousarray(logits, np.float32)}, os.path.join(out, f'{name}.io.safetensors'))


if kind == 'torch':
    import types
    import warnings

    import torch

    sys.modules['torchvision._meta_registrations'] = types.ModuleType('torchvision._meta_registrations')
    warnings.simplefilter('ignore')
    from safetensors.torch import save_file
    from torchvision.models import resnet50

    torch.manual_seed(1)
    m = resnet50()
    with torch.no_grad():
        for bn in m.modules():
            if isinstance(bn, torch.nn.BatchNorm2d):
                bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-0.5, 0.5)
                bn.running_mean.uniform_(-0.5, 0.5), bn.running_var.uniform_(0.5, 2.0)
        m.eval()
        logits = m(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
    save_file(m.state_dict(), os.path.join(out, 'torchvision_resnet50.safetensors'))
    torch.save(m.state_dict(), os.path.join(out, 'torchvision_resnet50.pth'))
    save_io('torchvision_resnet50', logits)
else:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import keras

    keras.utils.set_random_seed(1)
    m = keras.applications.ResNet50(weights=None, classifier_activation=None)
    for layer in m.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c), rng.uniform(-0.5, 0.5, c), rng.uniform(0.5, 2.0, c)])
    m.save(os.path.join(out, 'keras_resnet50.h5'))
    m.save_weights(os.path.join(out, 'keras_resnet50.weights.h5'))
    save_io('keras_resnet50', m.predict(x, verbose=0))
