package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/** Albumentations {@code VerticalFlip}: mirrors the image top-bottom. Default p = 0.5. */
public final class VerticalFlip extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  public VerticalFlip(double p) {
    super(p);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return Geometry.flipVertical(image);
  }

  @Override
  public String toString() {
    return "VerticalFlip(p=" + p() + ")";
  }
}
