package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code MotionBlur}: convolves with a normalised line kernel. The kernel size is an
 * odd number drawn from [blurMin, blurLimit]; the line joins two random points of the kernel, drawn
 * with OpenCV's 8-connected {@code cv2.line}; without {@code allowShifted} it is moved so that its
 * midpoint is the kernel centre (Albumentations' {@code allow_shifted=False}). The image is filtered
 * like {@code cv2.filter2D} (correlation, anchor at the centre, BORDER_REFLECT_101) with the sum of
 * the n line pixels divided by n and rounded half to even. Where that sum sits exactly half-way
 * between two outputs and 1/n is not exact in binary (n = 6, 10, 12, ...), the pixel is recomputed
 * the way OpenCV's SIMD filter does it (float32 fused multiply-adds of the float32 weight 1/n, in
 * kernel row-major order). The result is bit-exact with {@code cv2.filter2D} for kernels up to
 * 11x11; from 13x13 OpenCV filters through a DFT, and half-way sums may then round either way.
 * Default blur limit (3, 7), allow_shifted = true, p = 0.5 (Albumentations 1.x).
 */
public final class MotionBlur extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;
  public static final int DEFAULT_BLUR_MIN = 3;
  public static final int DEFAULT_BLUR_LIMIT = 7;
  public static final int MAX_BLUR_LIMIT = 31;

  /**
   * Division by the line length n without a divide: (2s + n) * MULTIPLIER[n] >>> SHIFT[n] is
   * floor((2s + n) / 2n), i.e. s / n rounded half up, for every sum s of n 8-bit pixels (checked
   * exhaustively below). Int multiplies and shifts vectorise. Powers of two round half to even with
   * a shift instead, and the half-way sums of other even n are redone afterwards.
   */
  private static final int[] MULTIPLIER = new int[MAX_BLUR_LIMIT + 1];
  private static final int[] SHIFT = new int[MAX_BLUR_LIMIT + 1];

  static {
    for (int n = 1; n <= MAX_BLUR_LIMIT; n++) {
      int shift = 14 + (32 - Integer.numberOfLeadingZeros(2 * n));
      int multiplier = (int) (((1L << shift) + 2 * n - 1) / (2 * n));
      for (int s = 0; s <= 255 * n; s++) {
        if (((2 * s + n) * multiplier >>> shift) != (2 * s + n) / (2 * n)) {
          throw new AssertionError("no exact reciprocal for n = " + n);
        }
      }
      MULTIPLIER[n] = multiplier;
      SHIFT[n] = shift;
    }
  }

  private final int blurMin;
  private final int blurLimit;
  private final boolean allowShifted;

  public MotionBlur(int blurMin, int blurLimit, boolean allowShifted, double p) {
    super(p);
    if (blurMin < 3 || blurMin % 2 == 0 || blurLimit % 2 == 0 || blurLimit < blurMin
        || blurLimit > MAX_BLUR_LIMIT) {
      throw new IllegalArgumentException("need odd 3 <= blurMin <= blurLimit <= " + MAX_BLUR_LIMIT
          + ", was " + blurMin + ", " + blurLimit);
    }
    this.blurMin = blurMin;
    this.blurLimit = blurLimit;
    this.allowShifted = allowShifted;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return filter(image, randomKernel(rng));
  }

  /** The kernel as a ksize x ksize mask (row-major, true = on the line), drawn like Albumentations. */
  boolean[] randomKernel(SplittableRandom rng) {
    int ksize = blurMin + 2 * rng.nextInt((blurLimit - blurMin) / 2 + 1);
    int x1 = rng.nextInt(ksize);
    int x2 = rng.nextInt(ksize);
    int y1;
    int y2;
    if (x1 == x2) {
      // random.sample(range(ksize), 2): two distinct rows, so the line is never a single dot.
      y1 = rng.nextInt(ksize);
      y2 = rng.nextInt(ksize - 1);
      if (y2 >= y1) {
        y2++;
      }
    } else {
      y1 = rng.nextInt(ksize);
      y2 = rng.nextInt(ksize);
    }
    if (!allowShifted) {
      int[] xs = centred(x1, x2, ksize);
      int[] ys = centred(y1, y2, ksize);
      x1 = xs[0];
      x2 = xs[1];
      y1 = ys[0];
      y2 = ys[1];
    }
    return lineKernel(ksize, x1, y1, x2, y2);
  }

  /** Albumentations' make_odd_val followed by the shift that puts the segment's midpoint at the centre. */
  private static int[] centred(int v1, int v2, int ksize) {
    if ((Math.abs(v1 - v2) + 1) % 2 != 1) {
      if (v2 > v1) {
        v2--;
      } else {
        v1--;
      }
    }
    int shift = (v1 + v2) / 2 - (ksize - 1) / 2;
    return new int[] {v1 - shift, v2 - shift};
  }

  /**
   * {@code cv2.line(kernel, (x1, y1), (x2, y2), 1, thickness=1)} with LINE_8: OpenCV's
   * left-to-right Bresenham walk (cv::LineIterator), including its tie-breaking.
   */
  static boolean[] lineKernel(int ksize, int x1, int y1, int x2, int y2) {
    boolean[] mask = new boolean[ksize * ksize];
    if (x2 < x1) {
      int t = x1;
      x1 = x2;
      x2 = t;
      t = y1;
      y1 = y2;
      y2 = t;
    }
    int dx = x2 - x1;
    int dy = y2 - y1;
    int stepY = dy < 0 ? -1 : 1;
    dy = Math.abs(dy);
    boolean steep = dy > dx;
    int major = steep ? dy : dx;
    int minor = steep ? dx : dy;
    int err = major - 2 * minor;
    int x = x1;
    int y = y1;
    for (int i = 0; i <= major; i++) {
      mask[y * ksize + x] = true;
      boolean minorStep = err < 0;
      err += -2 * minor + (minorStep ? 2 * major : 0);
      if (steep) {
        y += stepY;
        if (minorStep) {
          x++;
        }
      } else {
        x++;
        if (minorStep) {
          y += stepY;
        }
      }
    }
    return mask;
  }

  /** {@code cv2.filter2D(img, -1, mask / mask.sum())}, rounding half to even. */
  static ImageU8 filter(ImageU8 src, boolean[] mask) {
    int ksize = (int) Math.round(Math.sqrt(mask.length));
    int r = ksize / 2;
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int n = w * c;
    int count = 0;
    for (boolean on : mask) {
      if (on) {
        count++;
      }
    }
    int multiplier = MULTIPLIER[count];
    int shift = SHIFT[count];
    boolean powerOfTwo = Integer.bitCount(count) == 1;
    int log2 = Integer.numberOfTrailingZeros(count);
    boolean halfWays = count % 2 == 0 && !powerOfTwo;
    float weight = 1.0f / count;
    // Taps grouped by kernel row: tapOffsets[ky] holds kx * channels for each pixel on the line.
    int[][] tapOffsets = new int[ksize][];
    for (int ky = 0; ky < ksize; ky++) {
      int m = 0;
      for (int kx = 0; kx < ksize; kx++) {
        if (mask[ky * ksize + kx]) {
          m++;
        }
      }
      tapOffsets[ky] = new int[m];
      m = 0;
      for (int kx = 0; kx < ksize; kx++) {
        if (mask[ky * ksize + kx]) {
          tapOffsets[ky][m++] = kx * c;
        }
      }
    }
    int paddedLen = (w + 2 * r) * c;
    // Ring of the padded rows y - r .. y + r, slot (padded row + r) mod ksize.
    int[][] rows = new int[ksize][paddedLen];
    int[] acc = new int[n];
    int[] shifted = new int[n];
    int[] quotient = new int[n];
    int[] remainder = new int[n];
    byte[] out = new byte[h * n];
    for (int py = -r; py < r; py++) {
      Border.paddedRow(src, Border.reflect101(py, h), r, r, false, rows[py + r]);
    }
    for (int y = 0; y < h; y++) {
      int newest = y + r;
      Border.paddedRow(src, Border.reflect101(newest, h), r, r, false, rows[(newest + r) % ksize]);
      java.util.Arrays.fill(acc, 0);
      for (int ky = 0; ky < ksize; ky++) {
        int[] offs = tapOffsets[ky];
        if (offs.length == 0) {
          continue;
        }
        int[] row = rows[(y + ky) % ksize];
        for (int off : offs) {
          // A shifted copy, then a same-index add: the form HotSpot 17 vectorises.
          System.arraycopy(row, off, shifted, 0, n);
          Blur.addInto(acc, shifted, n);
        }
      }
      if (powerOfTwo) {
        // Exact weights: round half to even, (s + n/2 - 1 + (s / n is odd)) / n.
        int half = (count >>> 1) - (count > 1 ? 1 : 0);
        for (int i = 0; i < n; i++) {
          int sum = acc[i];
          quotient[i] = (sum + half + ((sum >>> log2) & (count > 1 ? 1 : 0))) >>> log2;
        }
      } else {
        for (int i = 0; i < n; i++) {
          quotient[i] = (2 * acc[i] + count) * multiplier >>> shift;
        }
      }
      int base = y * n;
      for (int i = 0; i < n; i++) {
        out[base + i] = (byte) quotient[i];
      }
      if (halfWays) {
        // remainder 0 marks a sum exactly half-way between two outputs.
        for (int i = 0; i < n; i++) {
          remainder[i] = quotient[i] * 2 * count - 2 * acc[i] - count;
        }
        for (int i = 0; i < n; i++) {
          if (remainder[i] == 0) {
            out[base + i] = halfWay(rows, tapOffsets, y, i, weight);
          }
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  /**
   * A half-way sum the way OpenCV's SIMD filter2D computes it: float32 fused multiply-adds of the
   * float32 weight 1/n, in kernel row-major order, rounded half to even.
   */
  private static byte halfWay(int[][] rows, int[][] tapOffsets, int y, int i, float weight) {
    int ksize = tapOffsets.length;
    float s = 0f;
    for (int ky = 0; ky < ksize; ky++) {
      int[] row = rows[(y + ky) % ksize];
      for (int off : tapOffsets[ky]) {
        s = Math.fma((float) row[off + i], weight, s);
      }
    }
    return (byte) (int) Math.rint(s);
  }

  @Override
  public String toString() {
    return "MotionBlur(blur_limit=(" + blurMin + ", " + blurLimit + "), allow_shifted=" + allowShifted
        + ", p=" + p() + ")";
  }
}
