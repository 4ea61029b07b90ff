package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code Blur}: a normalised box filter ({@code cv2.blur}, BORDER_REFLECT_101) with a
 * kernel size drawn from {@code blurMin, blurMin + 2, ..., <= blurLimit}. Default blur limit (3, 7),
 * p = 0.5. Bit-exact with OpenCV's 8-bit box filter for kernels up to 16x16.
 */
public final class Blur extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;
  public static final int DEFAULT_BLUR_MIN = 3;
  public static final int DEFAULT_BLUR_LIMIT = 7;
  public static final int MAX_BLUR_LIMIT = 31;

  private final KernelSizes sizes;

  public Blur(int blurMin, int blurLimit, double p) {
    super(p);
    this.sizes = KernelSizes.of(blurMin, blurLimit, MAX_BLUR_LIMIT);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return boxBlur(image, sizes.draw(rng));
  }

  /** {@code cv2.blur(img, (ksize, ksize))}. */
  static ImageU8 boxBlur(ImageU8 src, int ksize) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int n = w * c;
    int anchor = ksize / 2;
    int left = anchor;
    int right = ksize - 1 - anchor;
    int paddedLen = (w + ksize - 1) * c;

    int[] padded = new int[paddedLen];
    int[] shifted = new int[n];
    int[][] rowSums = new int[ksize][n];
    int[] colSum = new int[n];
    int[] scaled = new int[n];
    byte[] out = new byte[h * n];

    // OpenCV sums 8-bit boxes of up to 256 pixels in 16 bits and divides with a 23-bit fixed-point
    // reciprocal (ColumnSum<ushort, uchar>); larger boxes go through a floating-point scale.
    int area = ksize * ksize;
    boolean fixedPoint = area <= 256;
    int divScale = 1;
    int divDelta = 0;
    if (fixedPoint) {
      double scalef = (double) (1 << 23) / area;
      divScale = (int) Math.floor(scalef);
      scalef -= divScale;
      divDelta = area / 2;
      if (scalef < 0.5) {
        divDelta++;
      } else {
        divScale++;
      }
    }
    double scale = 1.0 / area;

    // Padded source rows -anchor .. h-1+right, each summed horizontally once.
    for (int py = -anchor; py < h + right; py++) {
      Border.paddedRow(src, Border.reflect101(py, h), left, right, false, padded);
      int[] sums = rowSums[Math.floorMod(py + anchor, ksize)];
      // Shifted copies, then same-index adds: the form HotSpot 17 vectorises.
      System.arraycopy(padded, 0, sums, 0, n);
      for (int t = 1; t < ksize; t++) {
        System.arraycopy(padded, t * c, shifted, 0, n);
        addInto(sums, shifted, n);
      }
      int y = py - right; // the output row whose window ends at this padded row
      if (py == -anchor) {
        System.arraycopy(sums, 0, colSum, 0, n);
      } else {
        addInto(colSum, sums, n);
      }
      if (y >= 0) {
        int base = y * n;
        if (fixedPoint) {
          for (int i = 0; i < n; i++) {
            // < 2^32 for every 8-bit box, so the unsigned shift of the int product is exact.
            scaled[i] = (colSum[i] + divDelta) * divScale >>> 23;
          }
        } else {
          for (int i = 0; i < n; i++) {
            scaled[i] = Math.min(255, (int) Math.rint(colSum[i] * scale));
          }
        }
        for (int i = 0; i < n; i++) {
          out[base + i] = (byte) scaled[i];
        }
        int[] oldest = rowSums[y % ksize];
        for (int i = 0; i < n; i++) {
          colSum[i] -= oldest[i];
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  private static void addInto(int[] acc, int[] add, int n) {
    for (int i = 0; i < n; i++) {
      acc[i] += add[i];
    }
  }

  @Override
  public String toString() {
    return "Blur(" + sizes + ", p=" + p() + ")";
  }
}
