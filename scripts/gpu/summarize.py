"""Prints the short summary that ends scripts/gpu-check.sh, from the JSON lines in its $OUT folder.

  python3 scripts/gpu/summarize.py <OUT>
"""
import json
import os
import sys


def lines(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    rows = []
    for raw in open(path, encoding="utf-8", errors="replace"):
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                rows.append(json.loads(raw))
            except json.JSONDecodeError:
                pass
    return rows


def pct(value):
    return "?" if value is None else f"{100 * value:.1f}%"


def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def main(out):
    print("==================== gpu-check summary ====================")
    kernels = lines(out, "kernels.jsonl")
    device = next((r for r in kernels if r.get("kind") == "device"), None)
    if device:
        shown = {k: v for k, v in device.items() if k != "kind"}
        print("device:", json.dumps(shown)[:400])
    summary = next((r for r in kernels if r.get("kind") == "summary"), None)
    if summary and "cases" in summary:
        print(f"kernels: {summary['cases']} cases, {summary['failed']} failed "
              f"(scale {summary.get('scale')}, {summary.get('seconds')} s)")
        failed = [r for r in kernels if r.get("kind") == "kernel" and not r.get("passed")]
        for row in failed[:12]:
            print(f"  FAILED {row.get('kernel')}/{row.get('case')} ({row.get('precision')}, {row.get('engine')}): "
                  f"max abs {row.get('maxAbsError')}, max rel {row.get('maxRelError')}, "
                  f"tolerance {row.get('tolerance')} {row.get('error') or ''}")
    elif summary:
        print("kernels:", summary.get("error", "no result")[:300])
    else:
        print("kernels: no result")

    memory = next((r for r in kernels if r.get("kind") == "memory"), None)
    if memory:
        b, a = memory.get("before") or {}, memory.get("after") or {}
        print(f"memory over {memory.get('steps')} ResNet-20 steps ({memory.get('seconds')} s): "
              f"{'steady' if memory.get('passed') else 'CHANGED'}; in use {b.get('inUseBytes')} -> "
              f"{a.get('inUseBytes')} bytes, device mallocs {b.get('deviceMallocs')} -> {a.get('deviceMallocs')}")

    train = lines(out, "train.jsonl")
    epochs = [r for r in train if r.get("kind") == "train"]
    if epochs:
        print("train: " + "; ".join(
            f"epoch {e['epoch']} train {pct(e['train_top1'])} val {pct(e['val_top1'])} "
            f"{e['images_per_s']:.0f} img/s" for e in epochs))
    for r in train:
        if r.get("kind") == "eval":
            print(f"eval: {r.get('split')} top-1 {pct(r.get('top1'))} top-5 {pct(r.get('top5'))} "
                  f"on {r.get('count')} images ({r.get('backend')})")
        if r.get("kind") == "resume" and r.get("completed"):
            print(f"resume: completed after SIGKILL; {r.get('epoch_lines')} epoch lines; final weights equal "
                  f"to the uninterrupted run: {r.get('weights_equal_uninterrupted')}")
        elif r.get("kind") == "resume":
            print(f"resume: killed after epoch {r.get('killed_after_epoch')}")

    bench = lines(out, "throughput.jsonl")
    if bench:
        ours, torch, backends = {}, {}, set()
        for r in bench:
            key = (r.get("model"), r.get("batch"), r.get("precision"))
            if r.get("peer") == "resnet-ts":
                backends.add(str(r.get("backend")))
                entry = ours.setdefault(key + (r.get("engine", "auto"),), {})
                entry["train"] = r.get("train_img_s")
                entry["infer"] = r.get("infer_img_s")
            elif r.get("peer") == "pytorch":
                torch.setdefault(key, {})[r.get("mode")] = r.get("images_per_s")
        rows = []
        keys = set(ours) | {k + ("-",) for k in torch if not any(o[:3] == k for o in ours)}
        for key in sorted(keys, key=lambda k: (str(k[0]), k[1] or 0, str(k[2]), str(k[3]))):
            for mode in ("train", "infer"):
                a = ours.get(key, {}).get(mode)
                b = torch.get(key[:3], {}).get(mode)
                if b is None and key[2] == "default":
                    b = torch.get((key[0], key[1], "fp32"), {}).get(mode)
                ratio = f"{a / b:.2f}" if a and b else "-"
                rows.append([key[0], key[1], key[2], key[3], mode, a if a is not None else "-",
                             b if b is not None else "-", ratio])
        print(f"throughput, images/s (resnet-ts --backend {','.join(sorted(backends)) or '?'}: median step; "
              "PyTorch channels-last: mean):")
        table(["model", "batch", "precision", "engine", "mode", "resnet-ts", "pytorch", "ratio"], rows)

    steps = lines(out, "steps.jsonl")
    print("steps:")
    table(["step", "status", "seconds", "note"],
          [[s["step"], s["status"] if s["status"] == "ok" else s["status"].upper(), s["seconds"],
            (s.get("note") or "")[:90]] for s in steps])
    bad = [s for s in steps if s["status"] != "ok"]
    print(f"RESULT: {'PASS' if steps and not bad else 'FAIL'} ({len(steps) - len(bad)}/{len(steps)} steps ok)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OUT", "/tmp/gpu-check-out"))
