package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/** Albumentations {@code HorizontalFlip}: mirrors the image left-right. Default p = 0.5. */
public final class HorizontalFlip extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  public HorizontalFlip(double p) {
    super(p);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return Geometry.flipHorizontal(image);
  }

  @Override
  public String toString() {
    return "HorizontalFlip(p=" + p() + ")";
  }
}
