package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * The kernel sizes a blur op draws from, as Albumentations draws them: {@code min, min + 2, …} up to
 * {@code limit}, uniformly.
 */
record KernelSizes(int min, int limit) {
  /** Odd sizes only (median and motion blur): odd {@code 3 <= min <= limit <= max}. */
  static KernelSizes odd(int min, int limit, int max) {
    if (min < 3 || min % 2 == 0 || limit % 2 == 0 || limit < min || limit > max) {
      throw new IllegalArgumentException("need odd 3 <= blurMin <= blurLimit <= " + max + ", was " + min + ", " + limit);
    }
    return new KernelSizes(min, limit);
  }

  /** Any {@code 3 <= min <= limit <= max} (the box blur takes even sizes too). */
  static KernelSizes of(int min, int limit, int max) {
    if (min < 3 || limit < min || limit > max) {
      throw new IllegalArgumentException("need 3 <= blurMin <= blurLimit <= " + max + ", was " + min + ", " + limit);
    }
    return new KernelSizes(min, limit);
  }

  int draw(SplittableRandom rng) {
    return min + 2 * rng.nextInt((limit - min) / 2 + 1);
  }

  /** As in the op's Albumentations repr: {@code blur_limit=(3, 7)}. */
  @Override
  public String toString() {
    return "blur_limit=(" + min + ", " + limit + ")";
  }
}
