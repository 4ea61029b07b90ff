package io.tunefleet.ml.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Progressive data expansion: epoch {@code e} trains on the easiest
 * {@code min(1, start + step · floor(e / every))} of the training split, easiest meaning lowest loss
 * under the latest evaluated model. Until a model has scored the data, the subset is a seeded random one.
 */
public record CurriculumSchedule(double startFraction, double stepFraction, int everyEpochs) {
  public CurriculumSchedule {
    if (!(startFraction > 0 && startFraction <= 1) || stepFraction < 0 || everyEpochs < 1) {
      throw new IllegalArgumentException("curriculum needs start in (0,1], step >= 0, every >= 1");
    }
  }

  public double fraction(int epoch) {
    return Math.min(1.0, startFraction + stepFraction * (epoch / everyEpochs));
  }

  /** How many of {@code n} samples epoch {@code epoch} trains on (at least one). */
  public int size(int n, int epoch) {
    return Math.max(1, Math.min(n, (int) Math.round(fraction(epoch) * n)));
  }

  /**
   * Positions (ascending) of the samples epoch {@code epoch} trains on: the {@link #size} lowest losses
   * in {@code difficulty} (ties broken by position), or a seeded random subset when it is null.
   */
  public int[] select(int n, int epoch, float[] difficulty, long seed) {
    int k = size(n, epoch);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    if (difficulty == null) {
      int[] shuffled = new int[n];
      for (int i = 0; i < n; i++) {
        shuffled[i] = i;
      }
      Shuffle.inPlace(shuffled, new SplittableRandom(seed ^ 0x5DEECE66DL));
      int[] chosen = Arrays.copyOf(shuffled, k);
      Arrays.sort(chosen);
      return chosen;
    }
    if (difficulty.length != n) {
      throw new IllegalArgumentException("difficulty scores " + difficulty.length + " samples, the split has " + n);
    }
    Arrays.sort(order, (a, b) -> difficulty[a] != difficulty[b] ? Float.compare(difficulty[a], difficulty[b]) : a - b);
    int[] chosen = new int[k];
    for (int i = 0; i < k; i++) {
      chosen[i] = order[i];
    }
    Arrays.sort(chosen);
    return chosen;
  }
}
