package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code Flip}: draws d uniformly from {-1, 0, 1} and applies {@code cv2.flip(img, d)}:
 * 0 flips top-bottom, 1 left-right, -1 both. Default p = 0.5.
 */
public final class Flip extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  public Flip(double p) {
    super(p);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return apply(image, rng.nextInt(3) - 1);
  }

  /** {@code cv2.flip(img, d)} for d in {-1, 0, 1}. */
  static ImageU8 apply(ImageU8 image, int d) {
    if (d == 0) {
      return Geometry.flipVertical(image);
    }
    return d > 0 ? Geometry.flipHorizontal(image) : Geometry.flipBoth(image);
  }

  @Override
  public String toString() {
    return "Flip(p=" + p() + ")";
  }
}
