package io.tunefleet.ml.augment;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Albumentations {@code Compose}: with probability p, applies every child in order, each child
 * deciding with its own p. Default p = 1.
 */
public final class Compose extends ProbabilisticTransform {
  public static final double DEFAULT_P = 1.0;

  private final List<ProbabilisticTransform> children;

  public Compose(List<? extends ProbabilisticTransform> children, double p) {
    super(p);
    this.children = List.copyOf(children);
  }

  public List<ProbabilisticTransform> children() {
    return children;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    ImageU8 out = image;
    for (ProbabilisticTransform child : children) {
      out = child.apply(out, rng);
    }
    return out;
  }

  @Override
  public String toString() {
    return "Compose(" + children + ", p=" + p() + ")";
  }
}
