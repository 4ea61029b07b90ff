package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MedianBlurTest {
  @Test
  void median3ReplicatesTheBorder() {
    // BORDER_REPLICATE: row -1 is row 0 (aaa|abc).
    // (0,0): 10 10 20 / 10 10 20 / 50 50 60 -> sorted 10 10 10 10 [20] 20 50 50 60 -> 20
    //        (with reflect-101 it would be 60 50 60 / 20 10 20 / 60 50 60 -> 50)
    // (0,3): 30 40 40 / 30 40 40 / 70 80 80 -> 30 30 40 40 [40] 40 70 80 80 -> 40
    // (1,1): 10 20 30 50 [60] 70 90 100 110 -> 60
    // (3,3): 110 120 120 / 150 160 160 / 150 160 160 -> 110 120 120 150 [150] 160 160 160 160 -> 150
    ImageU8 out = MedianFilter.median(TestImages.tens4x4(), 3);
    assertEquals(20, out.get(0, 0, 0));
    assertEquals(40, out.get(0, 3, 0));
    assertEquals(60, out.get(1, 1, 0));
    assertEquals(150, out.get(3, 3, 0));
  }

  @Test
  void median5ReplicatesTheBorder() {
    // (0,0): rows 0,0,0,1,2 x cols 0,0,0,1,2: nine 10s, three each of 20, 30, 50, 90, and 60, 70,
    // 100, 110 -> the 13th smallest is 30.
    ImageU8 out = MedianFilter.median(TestImages.tens4x4(), 5);
    assertEquals(30, out.get(0, 0, 0));
    // (1,1): rows 0,0,1,2,3 x cols 0,0,1,2,3 -> 10 10 20 30 40 / 10 10 20 30 40 / 50 50 60 70 80 /
    // 90 90 100 110 120 / 130 130 140 150 160 -> sorted, 13th = 60.
    assertEquals(60, out.get(1, 1, 0));
  }

  @Test
  void everyApertureMatchesABruteForceMedian() {
    // Rows around the 64-lane words of the bit-sliced path, 1 to 40 channels (window shifts past one
    // word), smooth and noisy data.
    int[][] sizes = {{1, 1, 1}, {2, 3, 3}, {5, 7, 1}, {9, 63, 3}, {7, 64, 1}, {8, 65, 3}, {6, 130, 2}, {16, 16, 4},
        {4, 9, 12}, {3, 3, 40}};
    for (int k = 3; k <= 15; k += 2) {
      for (int[] s : sizes) {
        for (ImageU8 img : new ImageU8[] {TestImages.random(k * 100L + s[1], s[0], s[1], s[2]), smooth(s[0], s[1], s[2])}) {
          assertMatchesBruteForce(img, k, Arrays.toString(s));
        }
      }
    }
  }

  @Test
  void imagesFilteredAsSideBySideBandsMatchABruteForceMedian() {
    // Tall enough for several bands of rows per pass (see MedianFilter.medianNetwork): odd band
    // heights, a last band shorter than the others, rows paired across an odd height.
    int[][] sizes = {{37, 224, 3}, {50, 100, 3}, {23, 40, 1}, {61, 75, 1}, {31, 9, 4}};
    for (int k = 3; k <= 7; k += 2) {
      for (int[] s : sizes) {
        assertMatchesBruteForce(TestImages.random(k * 1000L + s[0], s[0], s[1], s[2]), k, Arrays.toString(s));
      }
    }
  }

  @Test
  void bitTransposeMovesBitIOfByteJToBitJOfByteI() {
    SplittableRandom rng = new SplittableRandom(4);
    for (int t = 0; t < 200; t++) {
      long x = rng.nextLong();
      long y = MedianFilter.transpose8(x);
      for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 8; j++) {
          assertEquals((x >>> (8 * i + j)) & 1, (y >>> (8 * j + i)) & 1);
        }
      }
    }
  }

  @Test
  void medianBlurDrawsOddAperturesFromTheRange() {
    ImageU8 img = TestImages.random(6, 12, 12, 1);
    Set<Integer> seen = new HashSet<>();
    MedianBlur blur = new MedianBlur(3, 7, 1);
    SplittableRandom rng = new SplittableRandom(2);
    for (int i = 0; i < 200; i++) {
      ImageU8 out = blur.apply(img, rng);
      for (int k = 3; k <= 7; k += 2) {
        if (out.equals(MedianFilter.median(img, k))) {
          seen.add(k);
        }
      }
    }
    assertEquals(Set.of(3, 5, 7), seen);
    assertThrows(IllegalArgumentException.class, () -> new MedianBlur(3, 4, 1));
  }

  private static ImageU8 smooth(int h, int w, int c) {
    byte[] px = new byte[h * w * c];
    SplittableRandom rng = new SplittableRandom(h * 31L + w);
    for (int i = 0; i < px.length; i++) {
      int y = i / (w * c);
      int x = (i / c) % w;
      px[i] = (byte) Math.max(0, Math.min(255, 128 + 60 * Math.sin(x * 0.3 + y * 0.2) + rng.nextInt(21) - 10));
    }
    return new ImageU8(h, w, c, px);
  }

  /** Every pixel of the k x k median of {@code img} equals the brute-force median of its window. */
  private static void assertMatchesBruteForce(ImageU8 img, int k, String what) {
    ImageU8 out = MedianFilter.median(img, k);
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        for (int c = 0; c < img.channels(); c++) {
          assertEquals(bruteForceMedian(img, y, x, c, k), out.get(y, x, c), "k=" + k + " " + what + " at " + y + "," + x + "," + c);
        }
      }
    }
  }

  private static int bruteForceMedian(ImageU8 img, int y, int x, int c, int k) {
    int r = k / 2;
    int[] v = new int[k * k];
    int j = 0;
    for (int dy = -r; dy <= r; dy++) {
      for (int dx = -r; dx <= r; dx++) {
        v[j++] = img.get(Border.replicate(y + dy, img.height()), Border.replicate(x + dx, img.width()), c);
      }
    }
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
