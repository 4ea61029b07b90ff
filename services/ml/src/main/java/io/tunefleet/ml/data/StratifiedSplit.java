package io.tunefleet.ml.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A seeded, per-class split into training and validation positions. */
public record StratifiedSplit(int[] train, int[] validation) {

  /**
   * Holds out {@code round(fraction · count)} images of each class (at least one when the class has
   * two or more), chosen by a seeded shuffle, so every class is represented on both sides.
   */
  public static StratifiedSplit of(int[] labels, int numClasses, double fraction, long seed) {
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < numClasses; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < labels.length; i++) {
      byClass.get(labels[i]).add(i);
    }
    SplittableRandom rng = new SplittableRandom(seed);
    List<Integer> train = new ArrayList<>();
    List<Integer> val = new ArrayList<>();
    for (List<Integer> members : byClass) {
      int[] order = members.stream().mapToInt(Integer::intValue).toArray();
      Shuffle.inPlace(order, rng);
      int held = (int) Math.round(fraction * order.length);
      if (held == 0 && order.length >= 2 && fraction > 0) {
        held = 1;
      }
      for (int i = 0; i < order.length; i++) {
        (i < held ? val : train).add(order[i]);
      }
    }
    int[] t = train.stream().mapToInt(Integer::intValue).sorted().toArray();
    int[] v = val.stream().mapToInt(Integer::intValue).sorted().toArray();
    return new StratifiedSplit(t, v);
  }
}
