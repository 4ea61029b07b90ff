#!/usr/bin/python3
"""Reference outputs for TuneFleet's augmentation ops, computed with the OpenCV/NumPy calls that
Albumentations (1.x) makes for each op. Needs Debian's python3-opencv (`/usr/bin/python3`).

    bench/augment_albumentations_reference.py golden
        Prints the expected bytes (hex) that OpenCvParityTest embeds: each op applied to the
        formula-defined images built by test_image(h, w, c) below (the same formula as the test).

The Java ops are bit-exact with these calls: cv2.blur (BORDER_REFLECT_101, 8-bit fixed-point
division), cv2.medianBlur (BORDER_REPLICATE), cv2.filter2D with a normalised cv2.line kernel
(MotionBlur), cv2.resize INTER_LINEAR, cv2.flip, np.rot90 and transpose.
"""
import sys

import cv2
import numpy as np

cv2.setNumThreads(1)


def test_image(h, w, c):
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((y * 53 + x * 97 + ch * 151 + (x * y) % 7 * 29) % 256).astype(np.uint8)


def motion_kernel(k, x1, y1, x2, y2):
    kern = np.zeros((k, k), np.uint8)
    cv2.line(kern, (x1, y1), (x2, y2), 1, thickness=1)
    return kern.astype(np.float32) / np.sum(kern)


CASES = [
    # name, (h, w, c), function
    ("blur3", (7, 9, 3), lambda im: cv2.blur(im, (3, 3))),
    ("blur4", (7, 9, 3), lambda im: cv2.blur(im, (4, 4))),
    ("blur5", (5, 6, 1), lambda im: cv2.blur(im, (5, 5))),
    ("blur7", (7, 9, 3), lambda im: cv2.blur(im, (7, 7))),
    ("median3", (7, 9, 3), lambda im: cv2.medianBlur(im, 3)),
    ("median5", (7, 9, 3), lambda im: cv2.medianBlur(im, 5)),
    ("median7", (5, 6, 1), lambda im: cv2.medianBlur(im, 7)),
    # a 6-pixel line: 1/6 is inexact, so this also pins OpenCV's rounding of half-way sums
    ("motion7_0_1_5_3", (7, 9, 3), lambda im: cv2.filter2D(im, -1, motion_kernel(7, 0, 1, 5, 3))),
    ("motion5_0_4_4_1", (7, 9, 3), lambda im: cv2.filter2D(im, -1, motion_kernel(5, 0, 4, 4, 1))),
    ("resize17x23", (7, 9, 3), lambda im: cv2.resize(im, (23, 17), interpolation=cv2.INTER_LINEAR)),
    ("resize4x3", (7, 9, 3), lambda im: cv2.resize(im, (3, 4), interpolation=cv2.INTER_LINEAR)),
    ("resize3x5", (5, 6, 1), lambda im: cv2.resize(im, (5, 3), interpolation=cv2.INTER_LINEAR)),
]


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "golden":
        print(__doc__)
        sys.exit(2)
    print(f"// cv2 {cv2.__version__}, numpy {np.__version__}")
    for name, (h, w, c), fn in CASES:
        out = np.ascontiguousarray(fn(test_image(h, w, c))).reshape(-1)
        print(f'{name} {"".join(f"{b:02x}" for b in out.tolist())}')
    print("kernel7_0_1_5_3", "".join(str(int(v > 0)) for v in motion_kernel(7, 0, 1, 5, 3).reshape(-1)))
    print("kernel5_0_4_4_1", "".join(str(int(v > 0)) for v in motion_kernel(5, 0, 4, 4, 1).reshape(-1)))
    print("kernel9_8_2_0_5", "".join(str(int(v > 0)) for v in motion_kernel(9, 8, 2, 0, 5).reshape(-1)))


if __name__ == "__main__":
    main()
