package io.tunefleet.ml.augment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Pixel-exact flips, transposes and 90-degree rotations on HWC byte images: the NumPy/OpenCV
 * operations behind Albumentations' HorizontalFlip, VerticalFlip, Flip, Transpose and RandomRotate90.
 */
final class Geometry {
  /** Tile edge for the transposing copies: 32x32 pixels keeps source and target rows in L1. */
  private static final int TILE = 32;
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long MASK24 = 0xFFFFFFL;

  private Geometry() {}

  /** {@code cv2.flip(img, 1)}: mirror left-right. */
  static ImageU8 flipHorizontal(ImageU8 src) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    byte[] in = src.pixels();
    byte[] out = new byte[in.length];
    int rowLen = w * c;
    if (c == 1) {
      for (int y = 0; y < h; y++) {
        int row = y * rowLen;
        for (int x = 0, rx = row + rowLen - 1; x < w; x++, rx--) {
          out[rx] = in[row + x];
        }
      }
    } else if (c == 3) {
      for (int y = 0; y < h; y++) {
        int row = y * rowLen;
        int x = 0;
        // Eight RGB pixels (three longs) at a time, reversed with shifts: twice as fast as byte moves.
        for (; x + 8 <= w; x += 8) {
          int s = row + 3 * x;
          long l0 = (long) LONGS.get(in, s);
          long l1 = (long) LONGS.get(in, s + 8);
          long l2 = (long) LONGS.get(in, s + 16);
          long p0 = l0 & MASK24;
          long p1 = (l0 >>> 24) & MASK24;
          long p2 = (l0 >>> 48) | ((l1 & 0xFF) << 16);
          long p3 = (l1 >>> 8) & MASK24;
          long p4 = (l1 >>> 32) & MASK24;
          long p5 = (l1 >>> 56) | ((l2 & 0xFFFF) << 8);
          long p6 = (l2 >>> 16) & MASK24;
          long p7 = l2 >>> 40;
          int d = row + 3 * (w - 8 - x);
          LONGS.set(out, d, p7 | (p6 << 24) | (p5 << 48));
          LONGS.set(out, d + 8, (p5 >>> 16) | (p4 << 8) | (p3 << 32) | (p2 << 56));
          LONGS.set(out, d + 16, (p2 >>> 8) | (p1 << 16) | (p0 << 40));
        }
        for (; x < w; x++) {
          int s = row + 3 * x;
          int d = row + 3 * (w - 1 - x);
          out[d] = in[s];
          out[d + 1] = in[s + 1];
          out[d + 2] = in[s + 2];
        }
      }
    } else {
      for (int y = 0; y < h; y++) {
        int row = y * rowLen;
        for (int x = 0; x < w; x++) {
          System.arraycopy(in, row + x * c, out, row + (w - 1 - x) * c, c);
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  /** {@code img[::-1]}: mirror top-bottom. */
  static ImageU8 flipVertical(ImageU8 src) {
    int h = src.height();
    int rowLen = src.width() * src.channels();
    byte[] in = src.pixels();
    byte[] out = new byte[in.length];
    for (int y = 0; y < h; y++) {
      System.arraycopy(in, y * rowLen, out, (h - 1 - y) * rowLen, rowLen);
    }
    return new ImageU8(h, src.width(), src.channels(), out);
  }

  /** {@code cv2.flip(img, -1)}, also {@code np.rot90(img, 2)}: both flips, i.e. the pixel order reversed. */
  static ImageU8 flipBoth(ImageU8 src) {
    int c = src.channels();
    byte[] in = src.pixels();
    byte[] out = new byte[in.length];
    int n = src.height() * src.width();
    if (c == 1) {
      for (int i = 0, j = n - 1; i < n; i++, j--) {
        out[j] = in[i];
      }
    } else if (c == 3) {
      for (int s = 0, d = in.length - 3; s < in.length; s += 3, d -= 3) {
        out[d] = in[s];
        out[d + 1] = in[s + 1];
        out[d + 2] = in[s + 2];
      }
    } else {
      for (int i = 0; i < n; i++) {
        System.arraycopy(in, i * c, out, (n - 1 - i) * c, c);
      }
    }
    return new ImageU8(src.height(), src.width(), c, out);
  }

  /** {@code img.transpose(1, 0, 2)}: out[i][j] = in[j][i]. */
  static ImageU8 transpose(ImageU8 src) {
    return transposed(src, false, false);
  }

  /**
   * {@code np.rot90(img, k)} for k in 0..3: counter-clockwise quarter turns. k = 0 returns the input
   * itself (Albumentations returns an equal array, and images are never modified in place).
   */
  static ImageU8 rot90(ImageU8 src, int k) {
    switch (k & 3) {
      case 0:
        return src;
      case 1:
        return transposed(src, false, true); // out[i][j] = in[j][W-1-i]
      case 2:
        return flipBoth(src);
      default:
        return transposed(src, true, false); // out[i][j] = in[H-1-j][i]
    }
  }

  /**
   * out (W x H) with out[i][j] = in[fy ? H-1-j : j][fx ? W-1-i : i]. Tiled so that both the rows read
   * and the rows written stay in cache.
   */
  private static ImageU8 transposed(ImageU8 src, boolean flipSourceRows, boolean flipSourceCols) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    byte[] in = src.pixels();
    byte[] out = new byte[in.length];
    for (int i0 = 0; i0 < w; i0 += TILE) {
      int i1 = Math.min(w, i0 + TILE);
      for (int j0 = 0; j0 < h; j0 += TILE) {
        int j1 = Math.min(h, j0 + TILE);
        for (int i = i0; i < i1; i++) {
          int sx = flipSourceCols ? w - 1 - i : i;
          int d = (i * h + j0) * c;
          if (c == 3) {
            for (int j = j0; j < j1; j++, d += 3) {
              int sy = flipSourceRows ? h - 1 - j : j;
              int s = (sy * w + sx) * 3;
              out[d] = in[s];
              out[d + 1] = in[s + 1];
              out[d + 2] = in[s + 2];
            }
          } else if (c == 1) {
            for (int j = j0; j < j1; j++, d++) {
              int sy = flipSourceRows ? h - 1 - j : j;
              out[d] = in[sy * w + sx];
            }
          } else {
            for (int j = j0; j < j1; j++, d += c) {
              int sy = flipSourceRows ? h - 1 - j : j;
              System.arraycopy(in, (sy * w + sx) * c, out, d, c);
            }
          }
        }
      }
    }
    return new ImageU8(w, h, c, out);
  }
}
