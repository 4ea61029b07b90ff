package io.tunefleet.ml.augment;

/**
 * torchvision's bilinear resize with {@code antialias=True} (0.14, {@code _upsample_bilinear2d_aa}; PIL's
 * {@code Image.resize(BILINEAR)} computes the same): a triangle filter whose support widens with the
 * downscaling factor, so shrinking a photo averages every source pixel instead of sampling two. Separable,
 * width first, in floating point, rounded half to even at the end. Unlike {@link BilinearResize} (OpenCV's
 * fixed-point {@code INTER_LINEAR}, Albumentations' ops), this is the reference input pipeline's resize.
 */
public final class AntialiasedResize {
  private AntialiasedResize() {}

  /** One axis: for output index i, the first source index, the number of taps and their normalised weights. */
  private record Taps(int[] first, int[] count, double[][] weights) {
    static Taps of(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double support = scale >= 1 ? scale : 1.0;
      double invScale = scale >= 1 ? 1.0 / scale : 1.0;
      int[] first = new int[outSize];
      int[] count = new int[outSize];
      double[][] weights = new double[outSize][];
      for (int i = 0; i < outSize; i++) {
        double center = scale * (i + 0.5);
        int xmin = Math.max((int) (center - support + 0.5), 0);
        int xsize = Math.min((int) (center + support + 0.5), inSize) - xmin;
        double[] w = new double[Math.max(xsize, 0)];
        double total = 0;
        for (int j = 0; j < w.length; j++) {
          double x = Math.abs((j + xmin - center + 0.5) * invScale);
          w[j] = x < 1 ? 1 - x : 0;
          total += w[j];
        }
        if (total != 0) {
          for (int j = 0; j < w.length; j++) {
            w[j] /= total;
          }
        }
        first[i] = xmin;
        count[i] = w.length;
        weights[i] = w;
      }
      return new Taps(first, count, weights);
    }
  }

  /** {@code src} resized to dh x dw. */
  public static ImageU8 resize(ImageU8 src, int dh, int dw) {
    return resize(src, 0, 0, src.height(), src.width(), dh, dw);
  }

  /** The region (y0, x0, sh, sw) of {@code src} resized to dh x dw: torchvision's {@code resized_crop}. */
  public static ImageU8 resize(ImageU8 src, int y0, int x0, int sh, int sw, int dh, int dw) {
    if (sh == dh && sw == dw) {
      return BilinearResize.crop(src, y0, x0, sh, sw);
    }
    int c = src.channels();
    byte[] in = src.pixels();
    int srcW = src.width();
    // horizontal pass: sh rows of dw pixels
    double[] rows = new double[sh * dw * c];
    if (sw == dw) {
      for (int y = 0; y < sh; y++) {
        int s = ((y0 + y) * srcW + x0) * c;
        for (int i = 0; i < dw * c; i++) {
          rows[y * dw * c + i] = in[s + i] & 0xFF;
        }
      }
    } else if (c == 3) {
      // RGB, the photo case: the three channels in one pass over the taps (the same sums, in the same order, as
      // the general loop below; a third of the weight loads and index arithmetic)
      Taps tx = Taps.of(sw, dw);
      for (int y = 0; y < sh; y++) {
        int rowStart = ((y0 + y) * srcW + x0) * 3;
        for (int x = 0; x < dw; x++) {
          double[] w = tx.weights[x];
          double r = 0;
          double g = 0;
          double b = 0;
          int s = rowStart + tx.first[x] * 3;
          for (int j = 0; j < w.length; j++, s += 3) {
            double wj = w[j];
            r += wj * (in[s] & 0xFF);
            g += wj * (in[s + 1] & 0xFF);
            b += wj * (in[s + 2] & 0xFF);
          }
          int o = (y * dw + x) * 3;
          rows[o] = r;
          rows[o + 1] = g;
          rows[o + 2] = b;
        }
      }
    } else {
      Taps tx = Taps.of(sw, dw);
      for (int y = 0; y < sh; y++) {
        int rowStart = ((y0 + y) * srcW + x0) * c;
        for (int x = 0; x < dw; x++) {
          double[] w = tx.weights[x];
          int o = (y * dw + x) * c;
          for (int ch = 0; ch < c; ch++) {
            double acc = 0;
            int s = rowStart + tx.first[x] * c + ch;
            for (int j = 0; j < w.length; j++, s += c) {
              acc += w[j] * (in[s] & 0xFF);
            }
            rows[o + ch] = acc;
          }
        }
      }
    }
    byte[] out = new byte[dh * dw * c];
    int rowLen = dw * c;
    if (sh == dh) {
      for (int i = 0; i < out.length; i++) {
        out[i] = toByte(rows[i]);
      }
    } else {
      Taps ty = Taps.of(sh, dh);
      double[] acc = new double[rowLen];
      for (int y = 0; y < dh; y++) {
        java.util.Arrays.fill(acc, 0);
        double[] w = ty.weights[y];
        for (int j = 0; j < w.length; j++) {
          int r = (ty.first[y] + j) * rowLen;
          double wj = w[j];
          for (int i = 0; i < rowLen; i++) {
            acc[i] += wj * rows[r + i];
          }
        }
        for (int i = 0; i < rowLen; i++) {
          out[y * rowLen + i] = toByte(acc[i]);
        }
      }
    }
    return new ImageU8(dh, dw, c, out);
  }

  private static byte toByte(double v) {
    return (byte) Math.max(0, Math.min(255, (int) Math.rint(v)));
  }
}
