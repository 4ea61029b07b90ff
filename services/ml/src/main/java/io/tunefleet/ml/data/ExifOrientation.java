package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;

/**
 * The EXIF orientation tag (0x0112) of a JPEG (APP1 "Exif") or PNG ({@code eXIf} chunk), and the transform
 * that shows the photo upright, as PIL's {@code ImageOps.exif_transpose} does: 2 mirror, 3 rotate 180,
 * 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise. Phones store
 * portrait shots as landscape pixels plus this tag; ignoring it trains on sideways images.
 */
final class ExifOrientation {
  private static final int ORIENTATION_TAG = 0x0112;

  private ExifOrientation() {}

  /** The orientation (1..8) recorded in {@code file}, 1 when there is none or it cannot be parsed. */
  static int of(byte[] file, String format) {
    try {
      int tiff = format.equals("jpeg") ? jpegTiffStart(file) : pngTiffStart(file);
      return tiff < 0 ? 1 : tiffOrientation(file, tiff);
    } catch (ArrayIndexOutOfBoundsException e) {
      return 1; // a damaged EXIF block is no reason to refuse the pixels
    }
  }

  private static int jpegTiffStart(byte[] f) {
    int p = 2;
    while (p + 4 <= f.length && (f[p] & 0xFF) == 0xFF) {
      int marker = f[p + 1] & 0xFF;
      if (marker == 0xDA || marker == 0xD9) {
        return -1; // start of scan: no more metadata segments
      }
      int len = u16(f, p + 2, true);
      if (marker == 0xE1 && len >= 8 && f[p + 4] == 'E' && f[p + 5] == 'x' && f[p + 6] == 'i' && f[p + 7] == 'f'
          && f[p + 8] == 0 && f[p + 9] == 0) {
        return p + 10;
      }
      p += 2 + len;
    }
    return -1;
  }

  private static int pngTiffStart(byte[] f) {
    int p = 8;
    while (p + 8 <= f.length) {
      int len = (int) u32(f, p, true);
      String type = new String(f, p + 4, 4, java.nio.charset.StandardCharsets.US_ASCII);
      if (type.equals("eXIf")) {
        return p + 8;
      }
      if (type.equals("IDAT") || type.equals("IEND") || len < 0) {
        return -1;
      }
      p += 12 + len;
    }
    return -1;
  }

  private static int tiffOrientation(byte[] f, int t) {
    boolean big = f[t] == 'M';
    int ifd = t + (int) u32(f, t + 4, big);
    int entries = u16(f, ifd, big);
    for (int i = 0; i < entries; i++) {
      int e = ifd + 2 + 12 * i;
      if (u16(f, e, big) == ORIENTATION_TAG) {
        int v = u16(f, e + 8, big);
        return v >= 1 && v <= 8 ? v : 1;
      }
    }
    return 1;
  }

  private static int u16(byte[] f, int p, boolean big) {
    int a = f[p] & 0xFF;
    int b = f[p + 1] & 0xFF;
    return big ? a << 8 | b : b << 8 | a;
  }

  private static long u32(byte[] f, int p, boolean big) {
    long hi = u16(f, big ? p : p + 2, big);
    long lo = u16(f, big ? p + 2 : p, big);
    return hi << 16 | lo;
  }

  /** {@code image} shown upright for {@code orientation}; the same image for 1. */
  static ImageU8 apply(ImageU8 image, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return image;
    }
    int h = image.height();
    int w = image.width();
    int c = image.channels();
    boolean swap = orientation >= 5;
    int oh = swap ? w : h;
    int ow = swap ? h : w;
    byte[] in = image.pixels();
    byte[] out = new byte[in.length];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int sy;
        int sx;
        switch (orientation) {
          case 2 -> { sy = y; sx = w - 1 - x; }
          case 3 -> { sy = h - 1 - y; sx = w - 1 - x; }
          case 4 -> { sy = h - 1 - y; sx = x; }
          case 5 -> { sy = x; sx = y; }
          case 6 -> { sy = h - 1 - x; sx = y; }
          case 7 -> { sy = h - 1 - x; sx = w - 1 - y; }
          default -> { sy = x; sx = w - 1 - y; }
        }
        System.arraycopy(in, (sy * w + sx) * c, out, (y * ow + x) * c, c);
      }
    }
    return new ImageU8(oh, ow, c, out);
  }
}
