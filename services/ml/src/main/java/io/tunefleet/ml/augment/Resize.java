package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/** Albumentations {@code Resize}: bilinear ({@code cv2.INTER_LINEAR}) resize to height x width. Default p = 1. */
public final class Resize extends ProbabilisticTransform {
  public static final double DEFAULT_P = 1.0;

  private final int height;
  private final int width;

  public Resize(int height, int width, double p) {
    super(p);
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("target size must be positive, was " + height + "x" + width);
    }
    this.height = height;
    this.width = width;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    if (image.height() == height && image.width() == width) {
      return image;
    }
    return BilinearResize.resize(image, height, width);
  }

  @Override
  public String toString() {
    return "Resize(" + height + "x" + width + ", p=" + p() + ")";
  }
}
