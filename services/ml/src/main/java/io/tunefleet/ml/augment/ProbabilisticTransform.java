package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * An augmentation applied with probability {@code p}, the way Albumentations' {@code BasicTransform}
 * and {@code BaseCompose} do it: one {@code rng.nextDouble() < p} draw decides, then the transform's
 * own parameters are drawn from the same source.
 */
public abstract class ProbabilisticTransform implements Augmentation {
  private final double p;

  protected ProbabilisticTransform(double p) {
    if (!(p >= 0.0 && p <= 1.0)) {
      throw new IllegalArgumentException("p must be in [0, 1], was " + p);
    }
    this.p = p;
  }

  /** Probability that {@link #apply} runs the transform. */
  public final double p() {
    return p;
  }

  @Override
  public final ImageU8 apply(ImageU8 image, SplittableRandom rng) {
    return rng.nextDouble() < p ? applyAlways(image, rng) : image;
  }

  /**
   * Runs the transform unconditionally (Albumentations' {@code force_apply}), drawing its random
   * parameters from {@code rng}. Never modifies {@code image}.
   */
  public abstract ImageU8 applyAlways(ImageU8 image, SplittableRandom rng);
}
