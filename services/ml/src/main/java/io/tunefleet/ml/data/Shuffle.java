package io.tunefleet.ml.data;

import java.util.SplittableRandom;

/** Fisher–Yates shuffles driven by an explicit random source, so orders are reproducible. */
public final class Shuffle {
  private Shuffle() {}

  public static void inPlace(int[] a, SplittableRandom rng) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
