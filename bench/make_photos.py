#!/usr/bin/python3
"""Writes N photo-like JPEGs of about 500 x 375 (ImageNet's typical size) for `fleet bench-photos`.

Usage: /usr/bin/python3 bench/make_photos.py DIR [N]  (default N = 256; four class folders)

The content is smooth colour fields with edges and fine texture, quality 90, 4:2:0 chroma (PIL's default), so that
file sizes and entropy-decoding work are those of real photos (~40-80 KB each), not of flat colour. Not committed:
generate under /tmp.
"""
import os
import sys

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
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    rng = np.random.default_rng(0)
    for i in range(n):
        d = os.path.join(out, "class%d" % (i % 4))
        os.makedirs(d, exist_ok=True)
        w = int(rng.integers(440, 561))
        h = int(round(w * rng.uniform(0.7, 0.8)))
        if i % 5 == 4:
            w, h = h, w  # some portraits
        photo(rng, h, w).save(os.path.join(d, "%05d.jpg" % i), quality=90)
    print("%d JPEGs in %s" % (n, out))


if __name__ == "__main__":
    main()
