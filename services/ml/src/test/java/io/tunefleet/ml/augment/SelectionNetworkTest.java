package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SelectionNetworkTest {
  /** Runs the network on one value per wire; returns the values at the requested ranks' wires. */
  private static int[] run(SelectionNetwork net, int[] groupSizes, int[][] groups) {
    int[] wires = new int[groupSizes.length * net.groupStride];
    for (int g = 0; g < groupSizes.length; g++) {
      for (int r = 0; r < groupSizes[g]; r++) {
        wires[g * net.groupStride + r] = groups[g][r];
      }
    }
    for (int i = 0; i < net.size(); i++) {
      int a = wires[net.low[i]];
      int b = wires[net.high[i]];
      if (net.kind[i] != SelectionNetwork.MAX_ONLY) {
        wires[net.low[i]] = Math.min(a, b);
      }
      if (net.kind[i] != SelectionNetwork.MIN_ONLY) {
        wires[net.high[i]] = Math.max(a, b);
      }
    }
    int[] out = new int[net.output.length];
    for (int rank = 0; rank < out.length; rank++) {
      out[rank] = net.output[rank] < 0 ? -1 : wires[net.output[rank]];
    }
    return out;
  }

  @Test
  void sortingNetworksSortEveryZeroOneInput() {
    // 0-1 principle: a comparator network sorts every input if it sorts every 0/1 input.
    for (int n = 1; n <= 9; n++) {
      SelectionNetwork net = SelectionNetwork.sorting(n);
      int[] sizes = new int[n];
      Arrays.fill(sizes, 1);
      for (int bits = 0; bits < 1 << n; bits++) {
        int[][] groups = new int[n][1];
        for (int g = 0; g < n; g++) {
          groups[g][0] = (bits >>> g) & 1;
        }
        int[] out = run(net, sizes, groups);
        int zeros = n - Integer.bitCount(bits);
        for (int rank = 0; rank < n; rank++) {
          assertEquals(rank < zeros ? 0 : 1, out[rank], "n=" + n + " input " + bits);
        }
      }
    }
    assertEquals(16, SelectionNetwork.sorting(7).size()); // as small as the best known 7-sorter
  }

  @Test
  void windowMedianNetworksFindTheMedianOfSortedGroups() {
    // Sorted 0/1 groups are runs of zeros then ones; enumerate all of them for 3x3 and 5x5 windows
    // (pairs of columns plus one column) and sample 7x7.
    for (int k = 3; k <= 7; k += 2) {
      int[] sizes = new int[k / 2 + 1];
      Arrays.fill(sizes, 2 * k);
      sizes[k / 2] = k;
      int median = (k * k - 1) / 2;
      SelectionNetwork net = SelectionNetwork.forSortedGroups(sizes, median, median);
      SplittableRandom rng = new SplittableRandom(k);
      long combos = 1;
      for (int size : sizes) {
        combos *= size + 1;
      }
      long trials = Math.min(combos, 200_000);
      for (long t = 0; t < trials; t++) {
        long code = combos == trials ? t : rng.nextLong(combos);
        int[][] groups = new int[sizes.length][];
        int zeros = 0;
        for (int g = 0; g < sizes.length; g++) {
          int z = (int) (code % (sizes[g] + 1));
          code /= sizes[g] + 1;
          groups[g] = new int[sizes[g]];
          for (int r = z; r < sizes[g]; r++) {
            groups[g][r] = 1;
          }
          zeros += z;
        }
        assertEquals(median < zeros ? 0 : 1, run(net, sizes, groups)[median], "k=" + k);
      }
    }
  }

  @Test
  void mergeNetworksMergeRandomSortedGroupsAndPruneToAFraction() {
    SplittableRandom rng = new SplittableRandom(1);
    int[] sizes = {7, 7};
    SelectionNetwork net = SelectionNetwork.forSortedGroups(sizes, 0, 13);
    for (int t = 0; t < 2000; t++) {
      int[][] groups = {sortedRandom(rng, 7), sortedRandom(rng, 7)};
      int[] all = new int[14];
      System.arraycopy(groups[0], 0, all, 0, 7);
      System.arraycopy(groups[1], 0, all, 7, 7);
      Arrays.sort(all);
      assertEquals(Arrays.toString(all), Arrays.toString(run(net, sizes, groups)));
    }
    int[] columns = {7, 7, 7, 7, 7, 7, 7};
    int pruned = SelectionNetwork.forSortedGroups(columns, 24, 24).size();
    int full = SelectionNetwork.forSortedGroups(columns, 0, 48).size();
    assertTrue(pruned < full, pruned + " vs " + full);
  }

  private static int[] sortedRandom(SplittableRandom rng, int n) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = rng.nextInt(256);
    }
    Arrays.sort(v);
    return v;
  }
}
