"""Counts the JPEG encodings in a .tar(.gz) of images: luminance quantiser DC step and chroma sampling.

An IJG/libjpeg luminance DC step of 16 is quality 50, 8 is quality 75, 2 is quality 95; chroma
sampling 2x2 is 4:2:0 (colour kept at half the resolution in each direction).

    python3 scripts/jpeg-tables.py ../shared/data/cifar10-train-jpg.tar.gz [--limit 2000]
"""

import argparse
import collections
import json
import tarfile


def encoding(data):
    """(luma DC quantiser step, first component's sampling factors) from the DQT and SOF markers."""
    i, luma, sampling = 2, None, None
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == 0xDB and luma is None:
            luma = data[i + 5]
        if marker in (0xC0, 0xC1, 0xC2):
            sampling = f"{data[i + 11] >> 4}x{data[i + 11] & 15}"
        if marker == 0xDA:
            break
        i += 2 + length
    return luma, sampling


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("archive")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many JPEGs (0: all)")
    args = parser.parse_args()
    counts = collections.Counter()
    with tarfile.open(args.archive) as archive:
        for member in archive:
            if not member.name.lower().endswith((".jpg", ".jpeg")):
                continue
            luma, sampling = encoding(archive.extractfile(member).read())
            counts[f"luma DC step {luma}, chroma sampling {sampling}"] += 1
            if args.limit and sum(counts.values()) >= args.limit:
                break
    print(json.dumps(dict(counts)))


if __name__ == "__main__":
    main()
