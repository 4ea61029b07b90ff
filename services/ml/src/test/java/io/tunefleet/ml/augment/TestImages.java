package io.tunefleet.ml.augment;

import java.util.HexFormat;
import java.util.SplittableRandom;

/** Small images with known pixels for the augmentation tests. */
final class TestImages {
  private TestImages() {}

  /** The 4x4 one-channel image with v(y, x) = 10 * (4y + x + 1): 10, 20, ... 160, row by row. */
  static ImageU8 tens4x4() {
    byte[] px = new byte[16];
    for (int i = 0; i < 16; i++) {
      px[i] = (byte) (10 * (i + 1));
    }
    return new ImageU8(4, 4, 1, px);
  }

  static ImageU8 of(int h, int w, int c, int... values) {
    byte[] px = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      px[i] = (byte) values[i];
    }
    return new ImageU8(h, w, c, px);
  }

  static int[] values(ImageU8 image) {
    byte[] px = image.pixels();
    int[] v = new int[px.length];
    for (int i = 0; i < px.length; i++) {
      v[i] = px[i] & 0xFF;
    }
    return v;
  }

  static ImageU8 random(long seed, int h, int w, int c) {
    SplittableRandom rng = new SplittableRandom(seed);
    byte[] px = new byte[h * w * c];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) rng.nextInt(256);
    }
    return new ImageU8(h, w, c, px);
  }

  static ImageU8 constant(int h, int w, int c, int value) {
    byte[] px = new byte[h * w * c];
    java.util.Arrays.fill(px, (byte) value);
    return new ImageU8(h, w, c, px);
  }

  /** The image bench/augment_albumentations_reference.py builds: (53y + 97x + 151c + 29((x*y) % 7)) % 256. */
  static ImageU8 formula(int h, int w, int c) {
    byte[] px = new byte[h * w * c];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int ch = 0; ch < c; ch++) {
          px[(y * w + x) * c + ch] = (byte) ((y * 53 + x * 97 + ch * 151 + (x * y) % 7 * 29) % 256);
        }
      }
    }
    return new ImageU8(h, w, c, px);
  }

  static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }
}
