package io.tunefleet.ml.augment;

/**
 * OpenCV's border extrapolation ({@code cv::borderInterpolate}) for the two modes the filters need,
 * and the padded rows (bytes or ints) the filters read from.
 */
final class Border {
  private Border() {}

  /** BORDER_REFLECT_101 ({@code gfedcb|abcdefgh|gfedcba}), OpenCV's default for blur and filter2D. */
  static int reflect101(int p, int len) {
    if (len == 1) {
      return 0;
    }
    while (p < 0 || p >= len) {
      p = p < 0 ? -p : 2 * len - 2 - p;
    }
    return p;
  }

  /** BORDER_REPLICATE ({@code aaaaaa|abcdefgh|hhhhhhh}), what {@code cv2.medianBlur} uses. */
  static int replicate(int p, int len) {
    return p < 0 ? 0 : p >= len ? len - 1 : p;
  }

  /**
   * Writes row {@code y} of {@code src} into {@code dst[at .. at + (left + width + right) * channels)}
   * as bytes, extended by {@code left} and {@code right} pixels with BORDER_REFLECT_101 (or
   * BORDER_REPLICATE when {@code replicate}). The rest of dst is left as it is.
   */
  static void paddedBytes(ImageU8 src, int y, int left, int right, boolean replicate, byte[] dst, int at) {
    int w = src.width();
    int c = src.channels();
    byte[] in = src.pixels();
    int rowStart = y * w * c;
    for (int px = -left; px < 0; px++) {
      int sx = replicate ? replicate(px, w) : reflect101(px, w);
      System.arraycopy(in, rowStart + sx * c, dst, at + (px + left) * c, c);
    }
    System.arraycopy(in, rowStart, dst, at + left * c, w * c);
    for (int px = w; px < w + right; px++) {
      int sx = replicate ? replicate(px, w) : reflect101(px, w);
      System.arraycopy(in, rowStart + sx * c, dst, at + (px + left) * c, c);
    }
  }

  /**
   * Writes row {@code y} of {@code src} into {@code dst[0 .. (left + width + right) * channels)} as
   * ints, extended by {@code left} and {@code right} pixels with BORDER_REFLECT_101 (or
   * BORDER_REPLICATE when {@code replicate}).
   */
  static void paddedRow(ImageU8 src, int y, int left, int right, boolean replicate, int[] dst) {
    int w = src.width();
    int c = src.channels();
    byte[] in = src.pixels();
    int rowStart = y * w * c;
    int d = 0;
    for (int px = -left; px < 0; px++) {
      int sx = replicate ? replicate(px, w) : reflect101(px, w);
      for (int ch = 0; ch < c; ch++) {
        dst[d++] = in[rowStart + sx * c + ch] & 0xFF;
      }
    }
    int n = w * c;
    for (int i = 0; i < n; i++) {
      dst[d + i] = in[rowStart + i] & 0xFF;
    }
    d += n;
    for (int px = w; px < w + right; px++) {
      int sx = replicate ? replicate(px, w) : reflect101(px, w);
      for (int ch = 0; ch < c; ch++) {
        dst[d++] = in[rowStart + sx * c + ch] & 0xFF;
      }
    }
  }
}
