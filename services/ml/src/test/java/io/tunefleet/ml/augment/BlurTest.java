package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlurTest {
  @Test
  void boxBlurReflectsBordersWithoutRepeatingTheEdge() {
    // BORDER_REFLECT_101: row -1 is row 1 and column -1 is column 1 (gfedcb|abcdefgh).
    // (0,0): rows 1,0,1 x cols 1,0,1 = (60+50+60) + (20+10+20) + (60+50+60) = 390 -> 390/9 = 43.3 -> 43
    // (0,3): rows 1,0,1 x cols 2,3,2 = (70+80+70) + (30+40+30) + (70+80+70) = 540 -> 60
    // (1,1): 10+20+30+50+60+70+90+100+110 = 540 -> 60
    // (3,3): rows 2,3,2 x cols 2,3,2 = (110+120+110) + (150+160+150) + (110+120+110) = 1140 -> 126.7 -> 127
    ImageU8 out = Blur.boxBlur(TestImages.tens4x4(), 3);
    assertEquals(43, out.get(0, 0, 0));
    assertEquals(60, out.get(0, 3, 0));
    assertEquals(60, out.get(1, 1, 0));
    assertEquals(127, out.get(3, 3, 0));
  }

  @Test
  void boxBlurOfOddKernelsEqualsTheRoundedWindowMean() {
    for (int k = 3; k <= 9; k += 2) {
      for (int c : new int[] {1, 3}) {
        ImageU8 img = TestImages.random(k * 10L + c, 11, 13, c);
        ImageU8 out = Blur.boxBlur(img, k);
        int r = k / 2;
        for (int y = 0; y < 11; y++) {
          for (int x = 0; x < 13; x++) {
            for (int ch = 0; ch < c; ch++) {
              int sum = 0;
              for (int dy = -r; dy <= r; dy++) {
                for (int dx = -r; dx <= r; dx++) {
                  sum += img.get(Border.reflect101(y + dy, 11), Border.reflect101(x + dx, 13), ch);
                }
              }
              assertEquals((int) Math.floor(sum / (double) (k * k) + 0.5), out.get(y, x, ch),
                  "k=" + k + " at " + y + "," + x + "," + ch);
            }
          }
        }
      }
    }
  }

  @Test
  void boxBlurKeepsAConstantImageAndWorksOnImagesSmallerThanTheKernel() {
    assertEquals(TestImages.constant(5, 4, 3, 200), Blur.boxBlur(TestImages.constant(5, 4, 3, 200), 7));
    assertEquals(TestImages.constant(1, 1, 1, 9), Blur.boxBlur(TestImages.constant(1, 1, 1, 9), 5));
    ImageU8 two = TestImages.of(1, 2, 1, 0, 90);
    // Reflect-101 of a 2-pixel row: ... 90 | 0 90 | 0 ...; 3-wide windows: (90+0+90)/3, (0+90+0)/3.
    assertArrayEquals(new int[] {60, 30}, TestImages.values(Blur.boxBlur(two, 3)));
  }

  @Test
  void reflect101AndReplicateIndexLikeOpenCv() {
    assertArrayEquals(new int[] {2, 1, 0, 1, 2, 3, 2, 1},
        new int[] {Border.reflect101(-2, 4), Border.reflect101(-1, 4), Border.reflect101(0, 4),
            Border.reflect101(1, 4), Border.reflect101(2, 4), Border.reflect101(3, 4), Border.reflect101(4, 4),
            Border.reflect101(5, 4)});
    assertEquals(0, Border.reflect101(-7, 1));
    assertEquals(1, Border.reflect101(-5, 2)); // 0 1 | 0 1 0 1 ... folds back and forth
    assertArrayEquals(new int[] {0, 0, 3, 3},
        new int[] {Border.replicate(-2, 4), Border.replicate(0, 4), Border.replicate(3, 4), Border.replicate(9, 4)});
  }

  @Test
  void blurDrawsOddKernelSizesFromTheRangeLikeAlbumentations() {
    ImageU8 img = TestImages.random(8, 12, 12, 1);
    Set<Integer> seen = new HashSet<>();
    Blur blur = new Blur(3, 7, 1);
    SplittableRandom rng = new SplittableRandom(2);
    for (int i = 0; i < 200; i++) {
      ImageU8 out = blur.apply(img, rng);
      for (int k = 3; k <= 7; k++) {
        if (out.equals(Blur.boxBlur(img, k))) {
          seen.add(k);
        }
      }
    }
    assertEquals(Set.of(3, 5, 7), seen);
    assertTrue(new Blur(4, 4, 1).apply(img, rng).equals(Blur.boxBlur(img, 4)));
  }
}
