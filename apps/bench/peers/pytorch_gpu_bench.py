"""GPU peer: the same ResNets in PyTorch on CUDA, beside `resnet-bench throughput --backend cuda`.

Models: torchvision's ResNet-50 (weights=None, 1000 classes, 224 px; where torchvision is missing,
the same network written out here, and "impl" says which ran) and a CIFAR ResNet-20 written
here (3 stages of 3 BasicBlocks, 16/32/64 channels, 10 classes, 32 px; --shortcut B: 1x1
projections, the default; A: parameter-free subsample + zero-pad).

A training step is SGD (momentum 0.9) forward + cross-entropy + backward + step on random data
already on the device; inference is model.eval() under torch.inference_mode(). Each measurement
times --steps steps after --warmup untimed ones, with torch.cuda.synchronize() around the timed loop.

Prints one JSON line per measurement:
  {"peer": "pytorch", "device": "...", "model": "resnet50", "batch": 256, "precision": "tf32",
   "channels_last": true, "mode": "train", "images_per_s": ..., "ms_per_step": ..., "torch": "..."}
With --mode both, a last line also carries train_img_s and infer_img_s, the fields of
../shared/peers/pytorch_bench.py, so this script can stand as a `resnet-bench throughput --peer`
(it accepts that interface's --size, --threads and --shortcut flags too).

  python3 apps/bench/peers/pytorch_gpu_bench.py --model resnet50 --batch 256 --precision tf32 \
    --channels-last --mode both
  python3 apps/bench/peers/pytorch_gpu_bench.py --device cpu --steps 1 --warmup 0 --batch 2
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = 0
        self.downsample = None
        if stride != 1 or cin != planes:
            if shortcut == "A":
                self.pad = planes - cin
            else:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.downsample is not None:
            s = self.downsample(x)
        elif self.pad:
            s = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            s = x
        return F.relu(y + s)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) of He et al. for 32x32 inputs; n=3 is ResNet-20."""

    def __init__(self, n=3, classes=10, shortcut="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for stage, planes in enumerate([16, 32, 64]):
            for i in range(n):
                blocks.append(BasicBlock(cin, planes, 2 if i == 0 and stage > 0 else 1, shortcut))
                cin = planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3x3, "v1.5"), for machines without torchvision."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


def inline_resnet50(classes):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, (planes, n) in enumerate(zip([64, 128, 256, 512], [3, 4, 6, 3])):
        for i in range(n):
            layers.append(Bottleneck(cin, planes, 2 if i == 0 and stage > 0 else 1))
            cin = planes * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def build(name, shortcut):
    """(model, classes, default image side, implementation)."""
    if name == "resnet20":
        return CifarResNet(3, 10, shortcut), 10, 32, "inline"
    try:
        import torchvision
    except ImportError:  # the same network, layer for layer (CPU dry runs on machines without it)
        return inline_resnet50(1000), 1000, 224, "inline"
    return torchvision.models.resnet50(weights=None, num_classes=1000), 1000, 224, "torchvision"


def set_precision(precision):
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def timed(step, steps, warmup, device):
    """Seconds per step over `steps` steps after `warmup` untimed ones."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return (time.perf_counter() - start) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="resnet50", choices=["resnet20", "resnet50"])
    ap.add_argument("--batch", type=int, default=None, help="default 128 (resnet20), 64 (resnet50)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32"])
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--mode", default="both", choices=["train", "infer", "both"])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (a syntax check only)")
    ap.add_argument("--shortcut", default="B", choices=["A", "B"], help="resnet20's shortcut")
    # pytorch_bench.py's interface, so `resnet-bench throughput --peer` can call this script.
    ap.add_argument("--size", type=int, default=None, help="image side (default: the model's)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (ignored on the GPU)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available to this torch (pass --device cpu for a dry run)")
    if a.threads and device.type == "cpu":
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    set_precision(a.precision)
    torch.backends.cudnn.benchmark = True

    model, classes, default_size, impl = build(a.model, a.shortcut)
    size = a.size or default_size
    batch = a.batch or (128 if a.model == "resnet20" else 64)
    memory_format = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(device, memory_format=memory_format)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, classes, (batch,), device=device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def infer_step():
        model(x)

    results = {}
    for mode in ["train", "infer"] if a.mode == "both" else [a.mode]:
        if mode == "train":
            model.train()
            seconds = timed(train_step, a.steps, a.warmup, device)
        else:
            model.eval()
            with torch.inference_mode():
                seconds = timed(infer_step, a.steps, a.warmup, device)
        results[mode] = batch / seconds
        line = {
            "peer": "pytorch",
            "device": name,
            "model": a.model,
            "batch": batch,
            "size": size,
            "precision": a.precision,
            "channels_last": a.channels_last,
            "mode": mode,
            "images_per_s": round(batch / seconds, 2),
            "ms_per_step": round(seconds * 1000, 3),
            "steps": a.steps,
            "warmup": a.warmup,
            "torch": torch.__version__,
            "impl": impl,
        }
        if a.model == "resnet20":
            line["shortcut"] = a.shortcut
        print(json.dumps(line), flush=True)
    if a.mode == "both":
        params = sum(p.numel() for p in model.parameters())
        print(json.dumps({
            "peer": "pytorch", "version": torch.__version__, "device": name, "model": a.model,
            "shortcut": a.shortcut if a.model == "resnet20" else "B", "batch": batch, "size": size,
            "classes": classes, "threads": a.threads, "params": params, "precision": a.precision,
            "channels_last": a.channels_last, "mode": "both",
            "train_img_s": round(results["train"], 2), "infer_img_s": round(results["infer"], 2),
        }), flush=True)


if __name__ == "__main__":
    main()
