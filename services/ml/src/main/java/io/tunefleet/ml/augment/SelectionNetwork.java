package io.tunefleet.ml.augment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A comparator network that selects some ranks of the union of already-sorted groups of values,
 * built by pruning Batcher's odd-even merge network: comparators whose order is already implied
 * (by the sorted groups or by earlier comparators) are dropped, and so are those that no requested
 * rank depends on. The median filter runs it with one group per window column after sorting the
 * columns, which leaves a fraction of a full sorting network.
 *
 * <p>Wires are labelled {@code group * groupStride + rankInGroup}. After comparator i, wire
 * {@code low[i]} holds the smaller and wire {@code high[i]} the larger of the two values; where
 * only one of them is used later, {@code kind[i]} says so and the other need not be written.
 */
final class SelectionNetwork {
  static final byte BOTH = 0;
  static final byte MIN_ONLY = 1;
  static final byte MAX_ONLY = 2;

  final int groupStride;
  final int[] low;
  final int[] high;
  final byte[] kind;
  /** Wire holding each requested rank of the union (ranks outside the request: -1). */
  final int[] output;

  private SelectionNetwork(int groupStride, int[] low, int[] high, byte[] kind, int[] output) {
    this.groupStride = groupStride;
    this.low = low;
    this.high = high;
    this.kind = kind;
    this.output = output;
  }

  int size() {
    return low.length;
  }

  /** A network sorting {@code n} single values: wire g is value g, output[r] the wire of rank r. */
  static SelectionNetwork sorting(int n) {
    int[] ones = new int[n];
    Arrays.fill(ones, 1);
    return forSortedGroups(ones, 0, n - 1);
  }

  /** Selects ranks rankLo..rankHi (0-based) of the union of sorted groups of the given sizes. */
  static SelectionNetwork forSortedGroups(int[] groupSizes, int rankLo, int rankHi) {
    int stride = 1;
    int largest = Arrays.stream(groupSizes).max().orElse(1);
    while (stride < largest) {
      stride <<= 1;
    }
    int groups = 1;
    while (groups < groupSizes.length) {
      groups <<= 1;
    }
    int n = groups * stride;
    // Padding wires hold +infinity: sorted groups stay sorted and every real value is below them.
    boolean[] infinite = new boolean[n];
    for (int g = 0; g < groups; g++) {
      for (int r = 0; r < stride; r++) {
        infinite[g * stride + r] = g >= groupSizes.length || r >= groupSizes[g];
      }
    }
    boolean[][] le = new boolean[n][n]; // le[x][y]: wire x is known to hold a value <= wire y's
    for (int x = 0; x < n; x++) {
      le[x][x] = true;
    }
    for (int g = 0; g < groups; g++) {
      for (int r = 0; r + 1 < stride; r++) {
        addRelation(le, g * stride + r, g * stride + r + 1);
      }
    }
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        if (infinite[y]) {
          addRelation(le, x, y);
        }
      }
    }
    // Batcher's merges of the groups, pairwise, up to one sorted run of all n positions.
    List<int[]> merges = new ArrayList<>();
    for (int len = stride; len < n; len *= 2) {
      for (int lo = 0; lo < n; lo += 2 * len) {
        oddEvenMerge(merges, lo, 2 * len, 1);
      }
    }
    int[] wireAt = new int[n]; // position in the merge network -> wire label
    for (int i = 0; i < n; i++) {
      wireAt[i] = i;
    }
    List<int[]> kept = new ArrayList<>();
    for (int[] cmp : merges) {
      int a = wireAt[cmp[0]];
      int b = wireAt[cmp[1]];
      if (le[a][b]) {
        continue; // already in order
      }
      if (le[b][a]) {
        wireAt[cmp[0]] = b; // certainly swapped: relabel instead of comparing
        wireAt[cmp[1]] = a;
        continue;
      }
      applyComparator(le, a, b);
      kept.add(new int[] {a, b});
    }
    // Keep only comparators that a requested rank depends on.
    boolean[] live = new boolean[n];
    int[] output = new int[n];
    Arrays.fill(output, -1);
    for (int rank = rankLo; rank <= rankHi; rank++) {
      output[rank] = wireAt[rank];
      live[wireAt[rank]] = true;
    }
    List<int[]> needed = new ArrayList<>();
    List<Byte> kinds = new ArrayList<>();
    for (int i = kept.size() - 1; i >= 0; i--) {
      int[] cmp = kept.get(i);
      boolean lowLive = live[cmp[0]];
      boolean highLive = live[cmp[1]];
      if (!lowLive && !highLive) {
        continue;
      }
      needed.add(cmp);
      kinds.add(lowLive && highLive ? BOTH : lowLive ? MIN_ONLY : MAX_ONLY);
      live[cmp[0]] = true;
      live[cmp[1]] = true;
    }
    int m = needed.size();
    int[] low = new int[m];
    int[] high = new int[m];
    byte[] kind = new byte[m];
    for (int i = 0; i < m; i++) {
      int[] cmp = needed.get(m - 1 - i);
      low[i] = cmp[0];
      high[i] = cmp[1];
      kind[i] = kinds.get(m - 1 - i);
    }
    return new SelectionNetwork(stride, low, high, kind, Arrays.copyOf(output, rankHi + 1));
  }

  private static void oddEvenMerge(List<int[]> out, int lo, int len, int r) {
    int step = r * 2;
    if (step < len) {
      oddEvenMerge(out, lo, len, step);
      oddEvenMerge(out, lo + r, len, step);
      for (int i = lo + r; i + r < lo + len; i += step) {
        out.add(new int[] {i, i + r});
      }
    } else {
      out.add(new int[] {lo, lo + r});
    }
  }

  /** Records x <= y and everything it implies. */
  private static void addRelation(boolean[][] le, int x, int y) {
    if (le[x][y]) {
      return;
    }
    int n = le.length;
    for (int p = 0; p < n; p++) {
      if (le[p][x]) {
        for (int q = 0; q < n; q++) {
          if (le[y][q]) {
            le[p][q] = true;
          }
        }
      }
    }
  }

  /** Updates the known order after a comparator puts min(a, b) on wire a and max(a, b) on wire b. */
  private static void applyComparator(boolean[][] le, int a, int b) {
    int n = le.length;
    boolean[] belowMin = new boolean[n];
    boolean[] belowMax = new boolean[n];
    boolean[] aboveMin = new boolean[n];
    boolean[] aboveMax = new boolean[n];
    for (int w = 0; w < n; w++) {
      if (w != a && w != b) {
        belowMin[w] = le[w][a] && le[w][b];
        belowMax[w] = le[w][a] || le[w][b];
        aboveMin[w] = le[a][w] || le[b][w];
        aboveMax[w] = le[a][w] && le[b][w];
      }
    }
    for (int w = 0; w < n; w++) {
      if (w != a && w != b) {
        le[w][a] = belowMin[w];
        le[w][b] = belowMax[w];
        le[a][w] = aboveMin[w];
        le[b][w] = aboveMax[w];
      }
    }
    le[a][b] = true;
    le[b][a] = false;
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        if (!le[x][y] && ((le[x][a] && le[a][y]) || (le[x][b] && le[b][y]) || (le[x][a] && le[b][y]))) {
          le[x][y] = true;
        }
      }
    }
  }
}
