package io.tunefleet.ml.augment;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Albumentations {@code OneOf}: with probability p, picks one child with probability proportional
 * to the children's own p and applies it unconditionally (force_apply). Default p = 0.5.
 */
public final class OneOf extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;

  private final List<ProbabilisticTransform> children;
  private final double[] cumulative;

  public OneOf(List<? extends ProbabilisticTransform> children, double p) {
    super(p);
    if (children.isEmpty()) {
      throw new IllegalArgumentException("OneOf needs at least one child");
    }
    this.children = List.copyOf(children);
    this.cumulative = new double[this.children.size()];
    double sum = 0;
    for (int i = 0; i < cumulative.length; i++) {
      sum += this.children.get(i).p();
      cumulative[i] = sum;
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("OneOf needs at least one child with p > 0");
    }
  }

  public List<ProbabilisticTransform> children() {
    return children;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return children.get(pick(rng.nextDouble())).applyAlways(image, rng);
  }

  /** Index of the child chosen by a uniform draw u in [0, 1); children with p = 0 are never chosen. */
  int pick(double u) {
    double target = u * cumulative[cumulative.length - 1];
    for (int i = 0; i < cumulative.length; i++) {
      if (target < cumulative[i]) {
        return i;
      }
    }
    // Rounding can leave target == total; the last child with a positive weight takes it.
    for (int i = cumulative.length - 1; i > 0; i--) {
      if (cumulative[i] > cumulative[i - 1]) {
        return i;
      }
    }
    return 0;
  }

  @Override
  public String toString() {
    return "OneOf(" + children + ", p=" + p() + ")";
  }
}
