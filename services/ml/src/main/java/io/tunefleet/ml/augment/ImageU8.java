package io.tunefleet.ml.augment;

import java.util.Arrays;

/**
 * An 8-bit image in HWC layout (row-major, channels interleaved), the layout Albumentations and
 * OpenCV work in. Pixel (y, x, c) is at {@code (y * width + x) * channels + c}.
 */
public record ImageU8(int height, int width, int channels, byte[] pixels) {
  public ImageU8 {
    if (height <= 0 || width <= 0 || channels <= 0) {
      throw new IllegalArgumentException("image dimensions must be positive: " + height + "x" + width + "x" + channels);
    }
    if (pixels.length != height * width * channels) {
      throw new IllegalArgumentException(
          "pixel buffer holds " + pixels.length + " bytes, expected " + height * width * channels);
    }
  }

  public static ImageU8 blank(int height, int width, int channels) {
    return new ImageU8(height, width, channels, new byte[height * width * channels]);
  }

  public int get(int y, int x, int c) {
    return pixels[(y * width + x) * channels + c] & 0xFF;
  }

  public void set(int y, int x, int c, int value) {
    pixels[(y * width + x) * channels + c] = (byte) Math.max(0, Math.min(255, value));
  }

  public ImageU8 copy() {
    return new ImageU8(height, width, channels, pixels.clone());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageU8 other
        && height == other.height && width == other.width && channels == other.channels
        && Arrays.equals(pixels, other.pixels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * height + width) + channels) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "ImageU8[" + height + "x" + width + "x" + channels + "]";
  }
}
