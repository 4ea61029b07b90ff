package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CurriculumScheduleTest {
  @Test
  void fractionsPerEpochAreExactlyAsConfigured() {
    CurriculumSchedule c = new CurriculumSchedule(0.8, 0.1, 5);
    int[] expected = {800, 800, 800, 800, 800, 900, 900, 900, 900, 900, 1000, 1000, 1000};
    for (int e = 0; e < expected.length; e++) {
      assertEquals(expected[e], c.size(1000, e), "epoch " + e);
      assertEquals(expected[e], c.select(1000, e, null, 1).length);
    }
    CurriculumSchedule fast = new CurriculumSchedule(0.5, 0.25, 1);
    assertEquals(50, fast.size(100, 0));
    assertEquals(75, fast.size(100, 1));
    assertEquals(100, fast.size(100, 2));
    assertEquals(100, fast.size(100, 9));
  }

  @Test
  void selectsTheEasiestByLossAndBreaksTiesByPosition() {
    CurriculumSchedule c = new CurriculumSchedule(0.5, 0.5, 1);
    float[] loss = {0.9f, 0.1f, 0.5f, 0.1f, 2.0f, 0.3f};
    assertArrayEquals(new int[] {1, 3, 5}, c.select(6, 0, loss, 7));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, c.select(6, 1, loss, 7));
  }

  @Test
  void withoutScoresTheSubsetIsSeededAndRandom() {
    CurriculumSchedule c = new CurriculumSchedule(0.8, 0.1, 5);
    assertArrayEquals(c.select(100, 0, null, 3), c.select(100, 0, null, 3));
    assertEquals(80, java.util.Arrays.stream(c.select(100, 0, null, 3)).distinct().count());
  }
}
