package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.awt.image.BufferedImage;

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

  public static ImageU8 fromBufferedImage(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
      // getRGB would apply a gamma conversion to 8-bit gray and shift the pixel values: read the raster
      byte[] gray = new byte[h * w];
      img.getRaster().getDataElements(0, 0, w, h, gray);
      return grayToRgb(gray, h, w);
    }
    byte[] rgb = new byte[h * w * 3];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        int o = (y * w + x) * 3;
        rgb[o] = (byte) (p >> 16);
        rgb[o + 1] = (byte) (p >> 8);
        rgb[o + 2] = (byte) p;
      }
    }
    return new ImageU8(h, w, 3, rgb);
  }
}
