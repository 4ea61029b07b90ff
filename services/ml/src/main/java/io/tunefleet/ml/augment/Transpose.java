package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/** Albumentations {@code Transpose}: swaps rows and columns (H x W becomes W x H). Default p = 0.5. */
public final class Transpose extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  public Transpose(double p) {
    super(p);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return Geometry.transpose(image);
  }

  @Override
  public String toString() {
    return "Transpose(p=" + p() + ")";
  }
}
