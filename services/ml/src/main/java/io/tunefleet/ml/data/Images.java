package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;

/** Conversions into the fleet's image form: 8-bit, HWC, 3 channels. */
public final class Images {
  private Images() {}

  public static ImageU8 grayToRgb(byte[] gray, int h, int w) {
    byte[] rgb = new byte[h * w * 3];
    for (int i = 0, j = 0; i < gray.length; i++, j += 3) {
      rgb[j] = gray[i];
      rgb[j + 1] = gray[i];
      rgb[j + 2] = gray[i];
    }
    return new ImageU8(h, w, 3, rgb);
  }
}
