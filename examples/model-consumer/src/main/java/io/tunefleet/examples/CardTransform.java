package io.tunefleet.examples;

import java.awt.image.BufferedImage;

/**
 * Turns an image of any size into the model's input as its card says: the evaluation transform (torchvision's
 * Resize of the shorter side + CenterCrop, or, for a model trained on whole images of one size, a resize of the
 * whole image to that size), then {@code (pixel / pixel_scale - mean) / std} per RGB channel, as (1, 3, H, W).
 *
 * <p>Resizing is bilinear with half-pixel centres and no antialiasing — torch's {@code interpolate(mode="bilinear",
 * align_corners=False)}, which examples/python/classify.py uses too, so both consumers compute the same input.
 */
public final class CardTransform {
  private CardTransform() {}

  /** The image as 8-bit RGB planes, (3, h, w); grayscale becomes three equal channels. */
  static float[][] rgbPlanes(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    float[][] planes = new float[3][h * w];
    if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
      // getRGB would apply a gamma conversion to 8-bit gray and shift the values: read the raster, as the fleet does
      int[] gray = img.getRaster().getPixels(0, 0, w, h, (int[]) null);
      for (int i = 0; i < h * w; i++) {
        planes[0][i] = planes[1][i] = planes[2][i] = gray[i];
      }
      return planes;
    }
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        planes[0][y * w + x] = (p >> 16) & 0xff;
        planes[1][y * w + x] = (p >> 8) & 0xff;
        planes[2][y * w + x] = p & 0xff;
      }
    }
    return planes;
  }

  /** The model input (1, 3, H, W) for {@code img}, flattened. */
  public static float[] apply(BufferedImage img, ServingCard card) {
    float[][] planes = rgbPlanes(img);
    int h = img.getHeight();
    int w = img.getWidth();
    if (card.transform().equals(ServingCard.RESIZE_CENTER_CROP)) {
      // torchvision's Resize(int): the shorter side becomes `size`, the other keeps the aspect ratio (truncated)
      int s = card.resizeShorterSide();
      int nh = h <= w ? s : (int) ((long) s * h / w);
      int nw = h <= w ? (int) ((long) s * w / h) : s;
      planes = resize(planes, h, w, nh, nw);
      int top = (int) Math.rint((nh - card.height()) / 2.0); // round half to even, as Python's round
      int left = (int) Math.rint((nw - card.width()) / 2.0);
      planes = crop(planes, nw, top, left, card.height(), card.width());
    } else if (h != card.height() || w != card.width()) {
      planes = resize(planes, h, w, card.height(), card.width());
    }
    int n = card.height() * card.width();
    float[] input = new float[3 * n];
    for (int c = 0; c < 3; c++) {
      float scale = (float) card.pixelScale();
      float mean = (float) card.mean()[c];
      float std = (float) card.std()[c];
      for (int i = 0; i < n; i++) {
        input[c * n + i] = (planes[c][i] / scale - mean) / std;
      }
    }
    return input;
  }

  static float[][] resize(float[][] planes, int h, int w, int nh, int nw) {
    float[][] out = new float[planes.length][nh * nw];
    float sy = (float) h / nh;
    float sx = (float) w / nw;
    for (int y = 0; y < nh; y++) {
      float fy = Math.max(0, (y + 0.5f) * sy - 0.5f);
      int y0 = Math.min((int) fy, h - 1);
      int y1 = Math.min(y0 + 1, h - 1);
      float dy = fy - y0;
      for (int x = 0; x < nw; x++) {
        float fx = Math.max(0, (x + 0.5f) * sx - 0.5f);
        int x0 = Math.min((int) fx, w - 1);
        int x1 = Math.min(x0 + 1, w - 1);
        float dx = fx - x0;
        for (int c = 0; c < planes.length; c++) {
          float[] p = planes[c];
          float top = p[y0 * w + x0] * (1 - dx) + p[y0 * w + x1] * dx;
          float bottom = p[y1 * w + x0] * (1 - dx) + p[y1 * w + x1] * dx;
          out[c][y * nw + x] = top * (1 - dy) + bottom * dy;
        }
      }
    }
    return out;
  }

  static float[][] crop(float[][] planes, int w, int top, int left, int ch, int cw) {
    float[][] out = new float[planes.length][ch * cw];
    for (int c = 0; c < planes.length; c++) {
      for (int y = 0; y < ch; y++) {
        System.arraycopy(planes[c], (top + y) * w + left, out[c], y * cw, cw);
      }
    }
    return out;
  }
}
