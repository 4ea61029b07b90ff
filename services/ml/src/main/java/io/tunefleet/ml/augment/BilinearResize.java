package io.tunefleet.ml.augment;

/**
 * {@code cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)} for 8-bit images, with OpenCV's
 * fixed-point arithmetic: pixel centres aligned ((d + 0.5) * scale - 0.5), 11-bit weights, a
 * horizontal pass into int rows and the vertical pass of OpenCV's SIMD path
 * ({@code ((r0 >> 4) * b0 >> 16) + ((r1 >> 4) * b1 >> 16) + 2 >> 2}).
 */
final class BilinearResize {
  private static final int COEF_BITS = 11;
  private static final int COEF_SCALE = 1 << COEF_BITS;

  private BilinearResize() {}

  /** Crops the region (y0, x0, sh, sw) out of src. */
  static ImageU8 crop(ImageU8 src, int y0, int x0, int sh, int sw) {
    int c = src.channels();
    byte[] in = src.pixels();
    byte[] out = new byte[sh * sw * c];
    for (int y = 0; y < sh; y++) {
      System.arraycopy(in, ((y0 + y) * src.width() + x0) * c, out, y * sw * c, sw * c);
    }
    return new ImageU8(sh, sw, c, out);
  }

  static ImageU8 resize(ImageU8 src, int dh, int dw) {
    return resize(src, 0, 0, src.height(), src.width(), dh, dw);
  }

  /** Resizes the region (y0, x0, sh, sw) of src to dh x dw. */
  static ImageU8 resize(ImageU8 src, int y0, int x0, int sh, int sw, int dh, int dw) {
    if (sh == dh && sw == dw) {
      return y0 == 0 && x0 == 0 && sh == src.height() && sw == src.width()
          ? src.copy() : crop(src, y0, x0, sh, sw);
    }
    int c = src.channels();
    int n = dw * c;
    byte[] in = src.pixels();
    int srcRowLen = src.width() * c;

    // Horizontal taps per output element: source offsets (within a row) and 11-bit weights.
    int[] xofs0 = new int[n];
    int[] xofs1 = new int[n];
    int[] alpha0 = new int[n];
    int[] alpha1 = new int[n];
    double scaleX = 1.0 / ((double) dw / sw);
    for (int dx = 0; dx < dw; dx++) {
      float fx = (float) ((dx + 0.5) * scaleX - 0.5);
      int sx = (int) Math.floor(fx);
      fx -= sx;
      if (sx < 0) {
        fx = 0;
        sx = 0;
      }
      if (sx >= sw - 1) {
        fx = 0;
        sx = sw - 1;
      }
      int a0 = (int) Math.rint((1.f - fx) * COEF_SCALE);
      int a1 = (int) Math.rint(fx * COEF_SCALE);
      int sx1 = Math.min(sx + 1, sw - 1);
      for (int ch = 0; ch < c; ch++) {
        int i = dx * c + ch;
        xofs0[i] = (x0 + sx) * c + ch;
        xofs1[i] = (x0 + sx1) * c + ch;
        alpha0[i] = a0;
        alpha1[i] = a1;
      }
    }

    double scaleY = 1.0 / ((double) dh / sh);
    int[] rowA = new int[n];
    int[] rowB = new int[n];
    int rowAIndex = -1;
    int rowBIndex = -1;
    byte[] out = new byte[dh * n];
    for (int dy = 0; dy < dh; dy++) {
      float fy = (float) ((dy + 0.5) * scaleY - 0.5);
      int sy = (int) Math.floor(fy);
      fy -= sy;
      int b0 = (int) Math.rint((1.f - fy) * COEF_SCALE);
      int b1 = (int) Math.rint(fy * COEF_SCALE);
      int r0 = Border.replicate(sy, sh);
      int r1 = Border.replicate(sy + 1, sh);
      // Keep the horizontally resized rows around: consecutive output rows share source rows.
      if (r0 != rowAIndex) {
        if (r0 == rowBIndex) {
          int[] t = rowA;
          rowA = rowB;
          rowB = t;
          rowBIndex = rowAIndex;
        } else {
          horizontal(in, (y0 + r0) * srcRowLen, xofs0, xofs1, alpha0, alpha1, rowA);
        }
        rowAIndex = r0;
      }
      if (r1 != rowBIndex) {
        if (r1 == rowAIndex) {
          System.arraycopy(rowA, 0, rowB, 0, n);
        } else {
          horizontal(in, (y0 + r1) * srcRowLen, xofs0, xofs1, alpha0, alpha1, rowB);
        }
        rowBIndex = r1;
      }
      int base = dy * n;
      for (int i = 0; i < n; i++) {
        int v = (((rowA[i] >> 4) * b0 >> 16) + ((rowB[i] >> 4) * b1 >> 16) + 2) >> 2;
        out[base + i] = (byte) Math.min(255, Math.max(0, v));
      }
    }
    return new ImageU8(dh, dw, c, out);
  }

  private static void horizontal(byte[] in, int rowStart, int[] xofs0, int[] xofs1, int[] alpha0,
      int[] alpha1, int[] dst) {
    for (int i = 0; i < dst.length; i++) {
      dst[i] = (in[rowStart + xofs0[i]] & 0xFF) * alpha0[i] + (in[rowStart + xofs1[i]] & 0xFF) * alpha1[i];
    }
  }
}
