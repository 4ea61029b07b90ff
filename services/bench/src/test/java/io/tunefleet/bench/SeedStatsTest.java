package io.tunefleet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SeedStatsTest {
  private static final double[] A = {0.93, 0.92, 0.94, 0.95, 0.91};
  private static final double[] B = {0.92, 0.92, 0.93, 0.93, 0.90};

  @Test
  void pairedIntervalIsTheStudentIntervalOfTheSeedBySeedDifferences() {
    // differences 0.01, 0, 0.01, 0.02, 0.01: mean 0.01, sd 0.0070711, t(0.975, 4) = 2.776
    SeedStats.Difference d = SeedStats.paired(A, B);
    assertEquals(0.01, d.mean(), 1e-12);
    assertEquals(0.01 - 0.0087785, d.low(), 1e-6);
    assertEquals(0.01 + 0.0087785, d.high(), 1e-6);
    assertEquals("better", d.verdict());
    assertEquals("+1.00 (+0.12 … +1.88)", d.points());
  }

  @Test
  void anIntervalAcrossZeroIsNoMeasurableDifference() {
    SeedStats.Difference d = SeedStats.paired(new double[] {0.93, 0.91, 0.92}, new double[] {0.92, 0.92, 0.92});
    assertEquals("no measurable difference", d.verdict());
    assertEquals("worse", SeedStats.paired(B, A).verdict());
  }

  @Test
  void welchUsesTheSatterthwaiteDegreesOfFreedomRoundedDown() {
    double[] x = {0.91, 0.93, 0.92, 0.94, 0.90};
    double[] y = {0.95, 0.96, 0.94, 0.97};
    // se = 0.0095743, df = 6.98 -> 6, t = 2.447
    SeedStats.Difference d = SeedStats.welch(x, y);
    assertEquals(-0.035, d.mean(), 1e-12);
    assertEquals(-0.035 - 0.0234283, d.low(), 1e-6);
    assertEquals(-0.035 + 0.0234283, d.high(), 1e-6);
    assertEquals("worse", d.verdict());
  }

  @Test
  void meanAndSampleStandardDeviation() {
    assertEquals("0.9300 ± 0.0158", SeedStats.pm(A));
    assertEquals(2.776, SeedStats.t95(4));
    assertEquals(2.0395, SeedStats.t95(31), 5e-4);
    assertEquals(1.9799, SeedStats.t95(120), 5e-4);
  }

  @Test
  void refusesWhatCannotGiveAnInterval() {
    assertThrows(IllegalArgumentException.class, () -> SeedStats.paired(A, new double[] {0.9}));
    assertThrows(IllegalArgumentException.class, () -> SeedStats.paired(new double[] {0.9}, new double[] {0.9}));
    assertThrows(IllegalArgumentException.class, () -> SeedStats.welch(A, new double[] {0.9}));
    assertThrows(IllegalArgumentException.class, () -> SeedStats.t95(0));
  }
}
