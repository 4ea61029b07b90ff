#!/usr/bin/python3
"""torchvision's ImageNet training input on JPEG files, one process, one thread: the reference of `fleet bench-photos`.

Usage: /usr/bin/python3 bench/torchvision_photos.py DIR SECONDS [BATCH]

PIL decode (.convert("RGB")) -> RandomResizedCrop(224) -> RandomHorizontalFlip -> ToTensor -> Normalize(ImageNet)
-> torch.stack into batches, for at least SECONDS after a short warm-up. Prints one JSON line: images, wall seconds,
process CPU seconds.
"""
import glob
import json
import os
import sys
import time

import torch
from PIL import Image
from torchvision import transforms


def main():
    root, seconds = sys.argv[1], float(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    torch.set_num_threads(1)
    files = sorted(glob.glob(os.path.join(root, "*", "*.jpg")))
    t = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    torch.manual_seed(0)

    def run(until):
        n, i = 0, 0
        while time.perf_counter() < until:
            xs = []
            for _ in range(batch):
                with open(files[i % len(files)], "rb") as f:
                    xs.append(t(Image.open(f).convert("RGB")))
                i += 1
            torch.stack(xs)
            n += batch
        return n

    run(time.perf_counter() + min(2.0, seconds / 2))
    wall, cpu = time.perf_counter(), time.process_time()
    n = run(wall + seconds)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"images": n, "wall_s": wall, "cpu_s": cpu}))


if __name__ == "__main__":
    main()
