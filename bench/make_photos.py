#!/usr/bin/python3
"""Writes N photo-like JPEGs of about 500 x 375 (ImageNet's typical size) for `fleet bench-photos`.

Usage: /usr/bin/python3 bench/make_photos.py DIR [N] [--distinct K]  (default N = 256; four class folders)

With --distinct K (K < N), only the first K photos are encoded (the very files a run with N = K writes); photo i >= K
is a hard link to photo i mod K under its own name in the same class folder. `fleet bench-photo-memory` uses this for
100,000 files in seconds: what the data-augmenter holds in memory depends on the number of files (their index, the
batches of one epoch), not on whether their bytes differ.

The content is smooth colour fields with edges and fine texture, quality 90, 4:2:0 chroma (PIL's default), so that
file sizes and entropy-decoding work are those of real photos (~40-80 KB each), not of flat colour. Not committed:
generate under /tmp.
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageFilter


def photo(rng, h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 60 * np.sin(a * x / 37 + b * y / 29 + p * 6)
    for _ in range(12):  # shapes: hard edges
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(10, 90)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 12, img.shape)  # texture
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    return im.filter(ImageFilter.GaussianBlur(0.7))


def main():
    args = argparse.ArgumentParser(description="Photo-like JPEGs of about 500 x 375 in four class folders.")
    args.add_argument("dir")
    args.add_argument("n", nargs="?", type=int, default=256)
    args.add_argument("--distinct", type=int, default=0, help="encode only K photos, hard-link the rest (K divisible by 4)")
    a = args.parse_args()
    out, n = a.dir, a.n
    distinct = a.distinct if 0 < a.distinct < n else n
    if distinct % 4 and distinct < n:
        args.error("--distinct must be a multiple of 4, so that each link stays in its photo's class folder")
    width = max(5, len(str(n - 1)))
    rng = np.random.default_rng(0)

    def path(i):
        d = os.path.join(out, "class%d" % (i % 4))
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "%0*d.jpg" % (width, i))

    for i in range(distinct):
        w = int(rng.integers(440, 561))
        h = int(round(w * rng.uniform(0.7, 0.8)))
        if i % 5 == 4:
            w, h = h, w  # some portraits
        photo(rng, h, w).save(path(i), quality=90)
    for i in range(distinct, n):
        os.link(path(i % distinct), path(i))
    if distinct < n:
        print("%d JPEGs in %s: %d distinct photos, the other %d hard links to them" % (n, out, distinct, n - distinct))
    else:
        print("%d JPEGs in %s" % (n, out))


if __name__ == "__main__":
    main()
