package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeometryTest {
  // 2x3 RGB image: pixels a b c / d e f, pixel p has channels (10p+1, 10p+2, 10p+3) for p = 1..6.
  private static final ImageU8 RGB_2X3 = TestImages.of(2, 3, 3,
      11, 12, 13, 21, 22, 23, 31, 32, 33,
      41, 42, 43, 51, 52, 53, 61, 62, 63);

  @Test
  void horizontalFlipMirrorsEachRow() {
    ImageU8 out = new HorizontalFlip(1).apply(TestImages.tens4x4(), new SplittableRandom(1));
    assertArrayEquals(new int[] {
        40, 30, 20, 10,
        80, 70, 60, 50,
        120, 110, 100, 90,
        160, 150, 140, 130}, TestImages.values(out));
  }

  @Test
  void horizontalFlipKeepsChannelOrderWithinPixels() {
    ImageU8 out = Geometry.flipHorizontal(RGB_2X3);
    assertArrayEquals(new int[] {31, 32, 33, 21, 22, 23, 11, 12, 13, 61, 62, 63, 51, 52, 53, 41, 42, 43},
        TestImages.values(out));
  }

  @Test
  void horizontalFlipOfWideRgbRowsMatchesPixelByPixelMirror() {
    // Widths around the 8-pixel block path: remainders 0..7 and a row shorter than a block.
    for (int w = 1; w <= 27; w++) {
      ImageU8 img = TestImages.random(w, 3, w, 3);
      ImageU8 out = Geometry.flipHorizontal(img);
      for (int y = 0; y < 3; y++) {
        for (int x = 0; x < w; x++) {
          for (int c = 0; c < 3; c++) {
            assertEquals(img.get(y, w - 1 - x, c), out.get(y, x, c), "w=" + w);
          }
        }
      }
    }
  }

  @Test
  void verticalFlipReversesRowOrder() {
    ImageU8 out = new VerticalFlip(1).apply(TestImages.tens4x4(), new SplittableRandom(1));
    assertArrayEquals(new int[] {
        130, 140, 150, 160,
        90, 100, 110, 120,
        50, 60, 70, 80,
        10, 20, 30, 40}, TestImages.values(out));
  }

  @Test
  void flipCodesFollowOpenCv() {
    assertArrayEquals(TestImages.values(Geometry.flipVertical(RGB_2X3)), TestImages.values(Flip.apply(RGB_2X3, 0)));
    assertArrayEquals(TestImages.values(Geometry.flipHorizontal(RGB_2X3)), TestImages.values(Flip.apply(RGB_2X3, 1)));
    assertArrayEquals(new int[] {61, 62, 63, 51, 52, 53, 41, 42, 43, 31, 32, 33, 21, 22, 23, 11, 12, 13},
        TestImages.values(Flip.apply(RGB_2X3, -1)));
  }

  @Test
  void flipDrawsEachOfItsThreeCodesAboutEqually() {
    ImageU8 img = TestImages.random(3, 5, 7, 3);
    int[] counts = new int[3];
    Flip flip = new Flip(1);
    SplittableRandom rng = new SplittableRandom(11);
    for (int i = 0; i < 3000; i++) {
      ImageU8 out = flip.apply(img, rng);
      for (int d = -1; d <= 1; d++) {
        if (out.equals(Flip.apply(img, d))) {
          counts[d + 1]++;
        }
      }
    }
    for (int count : counts) {
      assertEquals(1000, count, 100);
    }
  }

  @Test
  void transposeSwapsRowsAndColumns() {
    ImageU8 out = new Transpose(1).apply(RGB_2X3, new SplittableRandom(1));
    assertEquals(3, out.height());
    assertEquals(2, out.width());
    // a d / b e / c f
    assertArrayEquals(new int[] {11, 12, 13, 41, 42, 43, 21, 22, 23, 51, 52, 53, 31, 32, 33, 61, 62, 63},
        TestImages.values(out));
  }

  @Test
  void rot90TurnsCounterClockwiseLikeNumpy() {
    // np.rot90 of [[a b c], [d e f]]: k=1 -> [[c f], [b e], [a d]]; k=2 -> [[f e d], [c b a]];
    // k=3 -> [[d a], [e b], [f c]].
    assertArrayEquals(new int[] {31, 32, 33, 61, 62, 63, 21, 22, 23, 51, 52, 53, 11, 12, 13, 41, 42, 43},
        TestImages.values(Geometry.rot90(RGB_2X3, 1)));
    assertArrayEquals(new int[] {61, 62, 63, 51, 52, 53, 41, 42, 43, 31, 32, 33, 21, 22, 23, 11, 12, 13},
        TestImages.values(Geometry.rot90(RGB_2X3, 2)));
    assertArrayEquals(new int[] {41, 42, 43, 11, 12, 13, 51, 52, 53, 21, 22, 23, 61, 62, 63, 31, 32, 33},
        TestImages.values(Geometry.rot90(RGB_2X3, 3)));
    assertEquals(3, Geometry.rot90(RGB_2X3, 1).height());
    assertSame(RGB_2X3, Geometry.rot90(RGB_2X3, 0));
  }

  @Test
  void fourQuarterTurnsAndTwoTransposesAreIdentityOnLargeImages() {
    // Larger than one 32x32 tile and not a multiple of it.
    for (int c : new int[] {1, 3, 4}) {
      ImageU8 img = TestImages.random(c, 45, 70, c);
      ImageU8 turned = img;
      for (int i = 0; i < 4; i++) {
        turned = Geometry.rot90(turned, 1);
      }
      assertEquals(img, turned);
      assertEquals(img, Geometry.transpose(Geometry.transpose(img)));
      assertEquals(Geometry.rot90(img, 3), Geometry.rot90(Geometry.rot90(Geometry.rot90(img, 1), 1), 1));
      assertEquals(img, Geometry.flipBoth(Geometry.flipBoth(img)));
    }
  }

  @Test
  void randomRotate90DrawsAllFourTurns() {
    ImageU8 img = TestImages.random(5, 4, 6, 1);
    int[] counts = new int[4];
    RandomRotate90 rot = new RandomRotate90(1);
    SplittableRandom rng = new SplittableRandom(3);
    for (int i = 0; i < 4000; i++) {
      ImageU8 out = rot.apply(img, rng);
      for (int k = 0; k < 4; k++) {
        if (out.equals(Geometry.rot90(img, k))) {
          counts[k]++;
        }
      }
    }
    for (int count : counts) {
      assertEquals(1000, count, 100);
    }
  }

  @Test
  void opsNeverModifyTheirInput() {
    ImageU8 img = TestImages.random(9, 9, 10, 3);
    ImageU8 before = img.copy();
    SplittableRandom rng = new SplittableRandom(5);
    for (ProbabilisticTransform t : new ProbabilisticTransform[] {new HorizontalFlip(1), new VerticalFlip(1),
        new Flip(1), new Transpose(1), new RandomRotate90(1), new GaussNoise(10, 50, 0, true, 1),
        new MotionBlur(3, 7, true, 1), new MedianBlur(3, 7, 1), new Blur(3, 7, 1), new Resize(5, 4, 1),
        new RandomResizedCrop(6, 6, 0.08, 1, 0.75, 4 / 3.0, 1)}) {
      for (int i = 0; i < 5; i++) {
        t.apply(img, rng);
        assertEquals(before, img, t.toString());
      }
    }
  }
}
