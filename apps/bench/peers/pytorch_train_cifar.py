"""PyTorch mirror of `resnet train` for CIFAR ResNets: the same images, split and recipe.

Reads the decoded dataset cache that `resnet train` writes (`<cache>/prepared/<key>/images.bin`,
`labels.bin`, `meta.json`) and a run's `split.json`, so both frameworks train on exactly the same
45k images and are scored on exactly the same 5k. `--run` names a `resnet train` output directory:
its `split.json`, and the cache entry decoded from its `config.json`'s data. It mirrors our defaults: option-A ResNet (v1,
parameter-free subsample + zero-pad shortcuts), He-normal convolutions (truncated as tfjs does), Glorot dense,
zero-initialised last BN of each block, BN eps 1.001e-5 and PyTorch momentum 0.1, SGD with Nesterov
momentum and decoupled weight decay on kernels only (p *= 1 - lr*wd), per-step cosine or one-cycle
with linear warm-up, pad-crop-flip and optional random erasing, label smoothing.

Prints one JSON line per epoch: {"epoch", "lr", "train_loss", "train_top1", "val_loss", "val_top1",
"seconds", "images_per_second"}.

    ~/.cache/resnet-peers/torch/bin/python apps/bench/peers/pytorch_train_cifar.py --run runs/<run> --epochs 10
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", help="a resnet train output directory: its split.json and its data's cache entry")
    p.add_argument("--cache", help="a prepared dataset directory (images.bin, labels.bin, meta.json)")
    p.add_argument("--split", help="a run's split.json (its validation indices)")
    p.add_argument("--depth", type=int, default=20, help="6n+2 (20, 32, 44, 56, 110)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--schedule", choices=["cosine", "onecycle"], default="cosine")
    p.add_argument("--warmup-epochs", type=float, default=0)
    p.add_argument("--weight-decay", type=float, default=5e-3, help="decoupled, as resnet train")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--normalization", choices=["imagenet", "per-pixel-mean"], default="imagenet")
    p.add_argument("--erasing", type=float, default=0.0, help="random erasing probability (fill 125)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps-per-epoch", type=int, help="stop each epoch early (smoke tests)")
    return p.parse_args()


def cache_of(run):
    """The newest prepared-dataset entry decoded from the data in `run`'s config.json."""
    try:
        with open(os.path.join(run, "config.json")) as f:
            data = os.path.realpath(json.load(f)["data"])
    except (OSError, ValueError, KeyError) as error:
        raise SystemExit(f"--run {run}: expected a resnet train output directory with config.json ({error})")
    root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "resnet-ts", "prepared")
    entries = []
    for key in os.listdir(root) if os.path.isdir(root) else []:
        try:
            with open(os.path.join(root, key, "meta.json")) as f:
                if os.path.realpath(json.load(f)["source"]) == data:
                    entries.append(os.path.join(root, key))
        except (OSError, ValueError, KeyError):
            continue
    if not entries:
        raise SystemExit(f"--run {run}: no decoded copy of {data} under {root}; run resnet train on it once")
    return max(entries, key=lambda entry: os.path.getmtime(os.path.join(entry, "meta.json")))


def load(cache, split_path):
    with open(os.path.join(cache, "meta.json")) as f:
        meta = json.load(f)
    n, h, w = meta["count"], meta["height"], meta["width"]
    images = np.fromfile(os.path.join(cache, "images.bin"), dtype=np.uint8)
    labels = np.fromfile(os.path.join(cache, "labels.bin"), dtype=np.int32)
    if images.size != n * h * w * 3 or labels.size != n:
        raise SystemExit(f"{cache}: images.bin/labels.bin do not hold {n} images of {h}x{w}")
    with open(split_path) as f:
        validation = np.array(json.load(f)["validation"], dtype=np.int64)
    train = np.setdiff1d(np.arange(n), validation)
    return images.reshape(n, h, w, 3), labels.astype(np.int64), train, validation, len(meta["classes"])


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1.001e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1.001e-5)
        nn.init.zeros_(self.bn2.weight)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.extra:
            s = F.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(y + s)


class CifarResNet(nn.Module):
    def __init__(self, depth, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, eps=1.001e-5), nn.ReLU()
        )
        blocks, cin = [], 16
        for stage, cout in enumerate([16, 32, 64]):
            for i in range(n):
                blocks.append(Block(cin, cout, 2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                std = math.sqrt(2 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1]))
                # tfjs heNormal: a normal truncated at 2 sigma, without Keras's widening correction.
                nn.init.trunc_normal_(m.weight, 0, std, -2 * std, 2 * std)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(x.mean((2, 3)))


def learning_rate(args, step, total, per_epoch):
    if args.schedule == "cosine":
        lr = args.lr * (1 + math.cos(math.pi * min(1, step / max(1, total)))) / 2
    else:
        initial = args.lr / 25
        final = initial / 1e4
        peak = max(1, round(0.3 * total) - 1)
        if step <= peak:
            lr = args.lr + (initial - args.lr) * (1 + math.cos(math.pi * step / peak)) / 2
        else:
            t = min(1, (step - peak) / max(1, total - 1 - peak))
            lr = final + (args.lr - final) * (1 + math.cos(math.pi * t)) / 2
    warmup = round(args.warmup_epochs * per_epoch)
    return lr * (step + 1) / warmup if step < warmup else lr


def augment(batch, rng, erasing):
    """Zero-pad 4, random 32x32 crop, horizontal flip, optional random erasing (uint8 NHWC)."""
    n, h, w, _ = batch.shape
    padded = np.zeros((n, h + 8, w + 8, 3), dtype=np.uint8)
    padded[:, 4 : 4 + h, 4 : 4 + w] = batch
    out = np.empty_like(batch)
    for i in range(n):
        top, left = rng.integers(0, 9, size=2)
        crop = padded[i, top : top + h, left : left + w]
        out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
        if erasing and rng.random() < erasing:
            for _ in range(10):
                area = h * w * rng.uniform(0.02, 0.33)
                aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
                eh, ew = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
                if 1 <= eh <= h and 1 <= ew <= w:
                    y, x = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
                    out[i, y : y + eh, x : x + ew] = 125
                    break
    return out


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if not args.run and not (args.cache and args.split):
        raise SystemExit("expected --run <resnet train output directory>, or both --cache and --split")
    cache = args.cache or cache_of(args.run)
    split = args.split or os.path.join(args.run, "split.json")
    images, labels, train, validation, classes = load(cache, split)
    if args.normalization == "imagenet":
        normalize = lambda x: (x.astype(np.float32) - IMAGENET_MEAN) / IMAGENET_STD  # noqa: E731
    else:
        mean = images[train].astype(np.float64).mean(0).astype(np.float32)
        normalize = lambda x: x.astype(np.float32) - mean  # noqa: E731
    to_tensor = lambda x: torch.from_numpy(np.ascontiguousarray(normalize(x).transpose(0, 3, 1, 2)))  # noqa: E731

    model = CifarResNet(args.depth, classes)
    kernels = [p for p in model.parameters() if p.dim() > 1]  # decayed; BN and biases are not
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
    per_epoch = math.ceil(len(train) / args.batch_size)
    if args.steps_per_epoch:
        per_epoch = min(per_epoch, args.steps_per_epoch)
    total, step = per_epoch * args.epochs, 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        order = rng.permutation(train)
        for b in range(per_epoch):
            idx = order[b * args.batch_size : (b + 1) * args.batch_size]
            x, y = to_tensor(augment(images[idx], rng, args.erasing)), torch.from_numpy(labels[idx])
            lr = learning_rate(args, step, total, per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():  # decoupled: p * (1 - lr*wd) - lr*direction, as resnet train
                for p in kernels:
                    p.mul_(1 - lr * args.weight_decay)
            optimizer.step()
            step += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
        seconds = time.time() - start
        model.eval()
        val_loss, val_correct = 0.0, 0
        with torch.no_grad():
            for b in range(0, len(validation), 500):
                idx = validation[b : b + 500]
                logits = model(to_tensor(images[idx]))
                y = torch.from_numpy(labels[idx])
                val_loss += F.cross_entropy(logits, y, reduction="sum").item()
                val_correct += (logits.argmax(1) == y).sum().item()
        print(
            json.dumps(
                {
                    "epoch": epoch,
                    "lr": lr,
                    "train_loss": round(loss_sum / seen, 4),
                    "train_top1": round(correct / seen, 4),
                    "val_loss": round(val_loss / len(validation), 4),
                    "val_top1": round(val_correct / len(validation), 4),
                    "seconds": round(seconds, 1),
                    "images_per_second": round(seen / seconds, 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
