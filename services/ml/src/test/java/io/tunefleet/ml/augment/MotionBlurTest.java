package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MotionBlurTest {
  @Test
  void horizontalLineKernelAveragesThreeNeighboursInTheRow() {
    boolean[] mask = MotionBlur.lineKernel(3, 0, 1, 2, 1);
    assertArrayEquals(new boolean[] {false, false, false, true, true, true, false, false, false}, mask);
    ImageU8 out = MotionBlur.filter(TestImages.tens4x4(), mask);
    // (0,0): reflect-101 -> (20 + 10 + 20) / 3 = 16.7 -> 17; (0,3): (30 + 40 + 30) / 3 = 33.3 -> 33;
    // (1,1): (50 + 60 + 70) / 3 = 60.
    assertEquals(17, out.get(0, 0, 0));
    assertEquals(33, out.get(0, 3, 0));
    assertEquals(60, out.get(1, 1, 0));
  }

  @Test
  void diagonalKernelAveragesAlongTheDiagonal() {
    boolean[] mask = MotionBlur.lineKernel(3, 2, 2, 0, 0);
    assertArrayEquals(new boolean[] {true, false, false, false, true, false, false, false, true}, mask);
    ImageU8 out = MotionBlur.filter(TestImages.tens4x4(), mask);
    // (0,0): v(1,1) + v(0,0) + v(1,1) = 60 + 10 + 60 = 130 -> 43.3 -> 43; (2,1): 50 + 100 + 150 -> 100.
    assertEquals(43, out.get(0, 0, 0));
    assertEquals(100, out.get(2, 1, 0));
  }

  @Test
  void lineKernelsMatchCv2Line() {
    // From bench/augment_albumentations_reference.py golden (cv2.line, LINE_8).
    assertMask("0000000110000000110000000110000000000000000000000", MotionBlur.lineKernel(7, 0, 1, 5, 3));
    assertMask("0000000001000100110010000", MotionBlur.lineKernel(5, 0, 4, 4, 1));
    assertMask("000000000000000000000000011000001100001110000110000000000000000000000000000000000",
        MotionBlur.lineKernel(9, 8, 2, 0, 5));
  }

  @Test
  void randomKernelsAreEightConnectedLinesThatSumToOne() {
    MotionBlur blur = new MotionBlur(3, 9, true, 1);
    SplittableRandom rng = new SplittableRandom(7);
    for (int t = 0; t < 500; t++) {
      boolean[] mask = blur.randomKernel(rng);
      int k = (int) Math.round(Math.sqrt(mask.length));
      assertTrue(k % 2 == 1 && k >= 3 && k <= 9);
      assertLine(mask, k, 2);
      // Normalised: a constant image stays constant.
      assertEquals(TestImages.constant(6, 7, 3, 201), MotionBlur.filter(TestImages.constant(6, 7, 3, 201), mask));
    }
  }

  @Test
  void withoutShiftTheLineIsCentred() {
    MotionBlur blur = new MotionBlur(3, 7, false, 1);
    SplittableRandom rng = new SplittableRandom(9);
    for (int t = 0; t < 500; t++) {
      boolean[] mask = blur.randomKernel(rng);
      int k = (int) Math.round(Math.sqrt(mask.length));
      // Albumentations' make_odd_val shortens an even-length segment by one, so two adjacent end
      // points collapse to a single pixel (an identity kernel); we keep that.
      assertLine(mask, k, 1);
      // Centred: the segment's end points are symmetric about the kernel centre, which it crosses.
      int minX = k;
      int maxX = -1;
      int minY = k;
      int maxY = -1;
      for (int i = 0; i < mask.length; i++) {
        if (mask[i]) {
          minX = Math.min(minX, i % k);
          maxX = Math.max(maxX, i % k);
          minY = Math.min(minY, i / k);
          maxY = Math.max(maxY, i / k);
        }
      }
      assertEquals(k - 1, minX + maxX);
      assertEquals(k - 1, minY + maxY);
      assertTrue(mask[(k / 2) * k + k / 2], "the centre pixel is on the line");
    }
  }

  @Test
  void filterEqualsTheRoundedMeanOfTheLinePixels() {
    ImageU8 img = TestImages.random(3, 9, 11, 3);
    boolean[] mask = MotionBlur.lineKernel(5, 0, 4, 4, 1);
    ImageU8 out = MotionBlur.filter(img, mask);
    for (int y = 0; y < 9; y++) {
      for (int x = 0; x < 11; x++) {
        for (int c = 0; c < 3; c++) {
          int sum = 0;
          for (int i = 0; i < 25; i++) {
            if (mask[i]) {
              sum += img.get(Border.reflect101(y + i / 5 - 2, 9), Border.reflect101(x + i % 5 - 2, 11), c);
            }
          }
          assertEquals((int) Math.rint(sum / 5.0), out.get(y, x, c)); // 5 pixels: no half-way sums
        }
      }
    }
  }

  @Test
  void filterMatchesThePixelByPixelDefinitionForEveryLineLength() {
    // Lines of 2 to 15 pixels (half-way sums rounded to even for 2, 4, 8, redone in float32 for 6,
    // 10, 12, 14), images smaller than the kernel, rows not a whole number of 8-byte words.
    int[][] sizes = {{1, 1, 1}, {2, 3, 3}, {3, 2, 4}, {6, 5, 1}, {9, 11, 3}, {4, 37, 3}, {3, 21, 1}};
    SplittableRandom rng = new SplittableRandom(11);
    boolean[] seen = new boolean[16];
    for (int t = 0; t < 300; t++) {
      int k = 3 + 2 * rng.nextInt(7);
      boolean[] mask = MotionBlur.lineKernel(k, rng.nextInt(k), rng.nextInt(k), rng.nextInt(k), rng.nextInt(k));
      int[] s = sizes[t % sizes.length];
      ImageU8 img = TestImages.random(t, s[0], s[1], s[2]);
      ImageU8 out = MotionBlur.filter(img, mask);
      for (int y = 0; y < s[0]; y++) {
        for (int x = 0; x < s[1]; x++) {
          for (int c = 0; c < s[2]; c++) {
            assertEquals(lineMean(img, mask, y, x, c), out.get(y, x, c), "k=" + k + " at " + y + "," + x + "," + c);
          }
        }
      }
      seen[lineLength(mask)] = true;
    }
    for (int n = 2; n <= 13; n++) {
      assertTrue(seen[n], "a line of " + n + " pixels");
    }
  }

  private static int lineLength(boolean[] mask) {
    int n = 0;
    for (boolean on : mask) {
      n += on ? 1 : 0;
    }
    return n;
  }

  /**
   * The filter's definition: the line pixels' mean (reflect-101 border) rounded half to even, where a
   * half-way mean with 1/n inexact in binary is the float32 fused multiply-add sum in row-major order.
   */
  private static int lineMean(ImageU8 img, boolean[] mask, int y, int x, int c) {
    int k = (int) Math.round(Math.sqrt(mask.length));
    int n = lineLength(mask);
    int sum = 0;
    float fma = 0f;
    for (int i = 0; i < mask.length; i++) {
      if (mask[i]) {
        int v = img.get(Border.reflect101(y + i / k - k / 2, img.height()),
            Border.reflect101(x + i % k - k / 2, img.width()), c);
        sum += v;
        fma = Math.fma((float) v, 1.0f / n, fma);
      }
    }
    boolean halfWay = 2 * sum % (2 * n) == n;
    return halfWay && Integer.bitCount(n) != 1 ? (int) Math.rint(fma) : (int) Math.rint((double) sum / n);
  }

  private static void assertMask(String expected, boolean[] mask) {
    StringBuilder actual = new StringBuilder();
    for (boolean on : mask) {
      actual.append(on ? '1' : '0');
    }
    assertEquals(expected, actual.toString());
  }

  /** Exactly one pixel per step along the major axis, each 8-connected to the previous one. */
  private static void assertLine(boolean[] mask, int k, int minPixels) {
    int count = 0;
    int minX = k;
    int maxX = -1;
    int minY = k;
    int maxY = -1;
    for (int i = 0; i < mask.length; i++) {
      if (mask[i]) {
        count++;
        minX = Math.min(minX, i % k);
        maxX = Math.max(maxX, i % k);
        minY = Math.min(minY, i / k);
        maxY = Math.max(maxY, i / k);
      }
    }
    boolean steep = maxY - minY > maxX - minX;
    int major = steep ? maxY - minY : maxX - minX;
    assertTrue(count >= minPixels, "a line of at least " + minPixels + " pixels");
    assertEquals(major + 1, count, "one pixel per step along the major axis");
    for (int m = 0; m <= major; m++) {
      int perStep = 0;
      for (int n = 0; n < k; n++) {
        int y = steep ? minY + m : n;
        int x = steep ? n : minX + m;
        if (mask[y * k + x]) {
          perStep++;
        }
      }
      assertEquals(1, perStep);
    }
  }
}
