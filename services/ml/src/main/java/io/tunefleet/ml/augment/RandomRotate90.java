package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code RandomRotate90}: {@code np.rot90(img, k)} with k uniform in 0..3
 * (counter-clockwise quarter turns; k = 0 leaves the image as it is). Default p = 0.5.
 */
public final class RandomRotate90 extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  public RandomRotate90(double p) {
    super(p);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return Geometry.rot90(image, rng.nextInt(4));
  }

  /** {@code np.rot90(img, k)}. */
  static ImageU8 rotate(ImageU8 image, int k) {
    return Geometry.rot90(image, k);
  }

  @Override
  public String toString() {
    return "RandomRotate90(p=" + p() + ")";
  }
}
