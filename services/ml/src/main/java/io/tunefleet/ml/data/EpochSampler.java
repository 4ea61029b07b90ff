package io.tunefleet.ml.data;

import java.util.SplittableRandom;

/**
 * The order in which an epoch visits the training set: a seeded shuffle (each image once), or
 * class-balanced weighted sampling with replacement (weight 1/class count, so every class is drawn
 * equally often in expectation) of the same number of draws.
 */
public final class EpochSampler {
  private EpochSampler() {}

  /** Positions into {@code labels} for {@code epoch}; the same arguments give the same order. */
  public static int[] order(int[] labels, int numClasses, int epoch, long seed, boolean balanced) {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 17);
    int n = labels.length;
    if (!balanced) {
      int[] order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      Shuffle.inPlace(order, rng);
      return order;
    }
    int[][] members = byClass(labels, numClasses);
    int present = 0;
    for (int[] m : members) {
      if (m.length > 0) {
        present++;
      }
    }
    int[] classes = new int[present];
    for (int c = 0, j = 0; c < numClasses; c++) {
      if (members[c].length > 0) {
        classes[j++] = c;
      }
    }
    // weight 1/count per image = each class drawn with probability 1/present, then uniformly inside it
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      int[] m = members[classes[rng.nextInt(present)]];
      order[i] = m[rng.nextInt(m.length)];
    }
    return order;
  }

  private static int[][] byClass(int[] labels, int numClasses) {
    int[] counts = new int[numClasses];
    for (int l : labels) {
      counts[l]++;
    }
    int[][] members = new int[numClasses][];
    for (int c = 0; c < numClasses; c++) {
      members[c] = new int[counts[c]];
    }
    int[] fill = new int[numClasses];
    for (int i = 0; i < labels.length; i++) {
      members[labels[i]][fill[labels[i]]++] = i;
    }
    return members;
  }
}
