package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ResizeTest {
  @Test
  void halvingAveragesTwoByTwoBlocksLikeOpenCv() {
    // Pixel centres of a 2x downscale fall between source pixels: weights 1/2, 1/2 both ways, and
    // OpenCV's fixed point gives (a + b + c + d + 2) >> 2: (10+20+50+60+2)>>2 = 35, (30+40+70+80+2)>>2 = 55,
    // (90+100+130+140+2)>>2 = 115, (110+120+150+160+2)>>2 = 135.
    ImageU8 out = BilinearResize.resize(TestImages.tens4x4(), 2, 2);
    assertArrayEquals(new int[] {35, 55, 115, 135}, TestImages.values(out));
  }

  @Test
  void upscalingInterpolatesBetweenPixelCentresAndClampsAtTheBorder() {
    // 1x2 -> 1x4: centres at source x = -0.25, 0.25, 0.75, 1.25 -> clamped 0, then 0.25 and 0.75
    // of the way from 0 to 200, then clamped 1.
    ImageU8 out = BilinearResize.resize(TestImages.of(1, 2, 1, 0, 200), 1, 4);
    assertArrayEquals(new int[] {0, 50, 150, 200}, TestImages.values(out));
  }

  @Test
  void constantImagesStayConstant() {
    ImageU8 img = TestImages.constant(7, 5, 3, 255);
    assertEquals(TestImages.constant(13, 11, 3, 255), BilinearResize.resize(img, 13, 11));
    assertEquals(TestImages.constant(2, 3, 3, 255), BilinearResize.resize(img, 2, 3));
  }

  @Test
  void resizeToTheSameSizeReturnsTheImage() {
    ImageU8 img = TestImages.random(1, 8, 8, 3);
    assertSame(img, new Resize(8, 8, 1).apply(img, new SplittableRandom(1)));
    assertEquals(16, new Resize(16, 12, 1).apply(img, new SplittableRandom(1)).height());
    assertEquals(12, new Resize(16, 12, 1).apply(img, new SplittableRandom(1)).width());
  }

  @Test
  void randomResizedCropAreaFractionIsUniformInTheScaleRange() {
    // Square image and ratio 1: every draw fits, so the area fraction is uniform in [0.08, 1].
    RandomResizedCrop rrc = new RandomResizedCrop(32, 32, 0.08, 1.0, 1.0, 1.0, 1);
    SplittableRandom rng = new SplittableRandom(4);
    double total = 0;
    int n = 4000;
    for (int i = 0; i < n; i++) {
      RandomResizedCrop.Crop c = rrc.sampleCrop(200, 200, rng);
      double fraction = c.height() * (double) c.width() / (200 * 200);
      assertTrue(fraction > 0.075 && fraction <= 1.0, c.toString());
      total += fraction;
    }
    assertEquals(0.54, total / n, 0.015);
  }

  @Test
  void randomResizedCropAspectRatioIsLogUniformInTheRatioRange() {
    RandomResizedCrop rrc = new RandomResizedCrop(32, 32, 0.08, 0.1, 0.75, 4 / 3.0, 1);
    SplittableRandom rng = new SplittableRandom(5);
    double totalLog = 0;
    int n = 4000;
    for (int i = 0; i < n; i++) {
      RandomResizedCrop.Crop c = rrc.sampleCrop(200, 300, rng);
      assertTrue(c.y() >= 0 && c.x() >= 0 && c.y() + c.height() <= 200 && c.x() + c.width() <= 300, c.toString());
      double ratio = c.width() / (double) c.height();
      // Whole-pixel sides move the ratio a little beyond [3/4, 4/3].
      assertTrue(ratio > 0.7 && ratio < 1.4, c.toString());
      totalLog += Math.log(ratio);
    }
    assertEquals(0, totalLog / n, 0.01); // log-uniform on [log 3/4, log 4/3], centred on 0
  }

  @Test
  void randomResizedCropFallsBackToTheCentreCropClosestToTheRatioRange() {
    // A 10x100 strip: a crop with the whole area and a ratio in [3/4, 4/3] never fits, so after 10
    // attempts the centre crop of height 10 and width round(10 * 4/3) = 13 is taken.
    RandomResizedCrop rrc = new RandomResizedCrop(8, 8, 1.0, 1.0, 0.75, 4 / 3.0, 1);
    assertEquals(new RandomResizedCrop.Crop(0, 43, 10, 13), rrc.sampleCrop(10, 100, new SplittableRandom(1)));
    // A square image with ratio range [2, 3]: full width, height round(5 / 2) = 2 (half to even).
    assertEquals(new RandomResizedCrop.Crop(1, 0, 2, 5),
        new RandomResizedCrop(8, 8, 1.0, 1.0, 2.0, 3.0, 1).sampleCrop(5, 5, new SplittableRandom(1)));
  }

  @Test
  void randomResizedCropOutputsTheTargetSizeAndTheCroppedContent() {
    ImageU8 img = TestImages.random(2, 40, 60, 3);
    RandomResizedCrop rrc = new RandomResizedCrop(24, 24, 0.08, 1.0, 0.75, 4 / 3.0, 1);
    ImageU8 out = rrc.apply(img, new SplittableRandom(6));
    assertEquals(24, out.height());
    assertEquals(24, out.width());
    RandomResizedCrop.Crop c = rrc.sampleCrop(40, 60, skipP(new SplittableRandom(6)));
    assertEquals(BilinearResize.resize(BilinearResize.crop(img, c.y(), c.x(), c.height(), c.width()), 24, 24), out);
  }

  private static SplittableRandom skipP(SplittableRandom rng) {
    rng.nextDouble(); // the probability draw that apply makes first
    return rng;
  }
}
