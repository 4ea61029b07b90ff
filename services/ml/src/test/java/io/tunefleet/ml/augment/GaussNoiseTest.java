package io.tunefleet.ml.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GaussNoiseTest {
  @Test
  void normalTableHasMeanZeroVarianceOneAndNormalQuantiles() {
    float[] t = StandardNormalTable.VALUES;
    double sum = 0;
    double sumSq = 0;
    int within1 = 0;
    int within2 = 0;
    for (float v : t) {
      sum += v;
      sumSq += (double) v * v;
      within1 += Math.abs(v) <= 1 ? 1 : 0;
      within2 += Math.abs(v) <= 2 ? 1 : 0;
    }
    assertEquals(0, sum / t.length, 1e-9);
    assertEquals(1, sumSq / t.length, 1e-6);
    assertEquals(0.6827, within1 / (double) t.length, 0.001);
    assertEquals(0.9545, within2 / (double) t.length, 0.001);
    assertEquals(1.959964, StandardNormalTable.inverseNormalCdf(0.975), 1e-6);
    assertEquals(-3.090232, StandardNormalTable.inverseNormalCdf(0.001), 1e-6);
  }

  @Test
  void noiseHasTheDrawnVarianceAndZeroMeanBeforeTruncation() {
    // var_limit (25, 25): sigma 5. On a mid-grey image nothing clips; astype(uint8) truncates, which
    // lowers the mean by 0.5 and adds 1/12 to the variance (uniform rounding error).
    ImageU8 grey = TestImages.constant(256, 256, 3, 128);
    ImageU8 out = new GaussNoise(25, 25, 0, true, 1).apply(grey, new SplittableRandom(1));
    double sum = 0;
    double sumSq = 0;
    int within1Sigma = 0;
    for (byte b : out.pixels()) {
      double d = (b & 0xFF) - 128 + 0.5;
      sum += d;
      sumSq += d * d;
      within1Sigma += Math.abs(d) <= 5 ? 1 : 0;
    }
    int n = out.pixels().length;
    double mean = sum / n;
    assertEquals(0, mean, 0.05);
    assertEquals(25 + 1.0 / 12, sumSq / n - mean * mean, 0.5);
    assertEquals(0.68, within1Sigma / (double) n, 0.02);
  }

  @Test
  void varianceIsDrawnUniformlyFromTheLimit() {
    GaussNoise noise = new GaussNoise(10, 50, 0, true, 1);
    ImageU8 grey = TestImages.constant(64, 64, 1, 128);
    SplittableRandom rng = new SplittableRandom(3);
    double min = Double.MAX_VALUE;
    double max = 0;
    double total = 0;
    int trials = 300;
    for (int t = 0; t < trials; t++) {
      ImageU8 out = noise.apply(grey, rng);
      double sumSq = 0;
      for (byte b : out.pixels()) {
        double d = (b & 0xFF) - 127.5;
        sumSq += d * d;
      }
      double variance = sumSq / out.pixels().length - 1.0 / 12;
      min = Math.min(min, variance);
      max = Math.max(max, variance);
      total += variance;
    }
    assertTrue(min > 8 && min < 13, "smallest variance " + min);
    assertTrue(max > 47 && max < 53, "largest variance " + max);
    assertEquals(30, total / trials, 2.5);
  }

  @Test
  void resultIsClippedNotWrapped() {
    ImageU8 bright = TestImages.constant(64, 64, 3, 250);
    ImageU8 dark = TestImages.constant(64, 64, 3, 3);
    GaussNoise loud = new GaussNoise(2500, 2500, 0, true, 1); // sigma 50
    SplittableRandom rng = new SplittableRandom(5);
    int saturated = 0;
    for (int v : TestImages.values(loud.apply(bright, rng))) {
      saturated += v == 255 ? 1 : 0;
    }
    int black = 0;
    for (int v : TestImages.values(loud.apply(dark, rng))) {
      black += v == 0 ? 1 : 0;
    }
    // Clipping puts everything above 255 at 255 and below 1 at 0: P(z >= 0.1) = 0.46 and
    // P(z < -0.04) = 0.48 at sigma 50. Wrapping around would leave only exact hits there.
    assertEquals(0.46, saturated / (64.0 * 64 * 3), 0.03);
    assertEquals(0.48, black / (64.0 * 64 * 3), 0.03);
  }

  @Test
  void sharedNoiseKeepsGreyPixelsGrey() {
    ImageU8 grey = TestImages.constant(16, 16, 3, 100);
    ImageU8 out = new GaussNoise(40, 40, 0, false, 1).apply(grey, new SplittableRandom(8));
    boolean anyChanged = false;
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        assertEquals(out.get(y, x, 0), out.get(y, x, 1));
        assertEquals(out.get(y, x, 0), out.get(y, x, 2));
        anyChanged |= out.get(y, x, 0) != 100;
      }
    }
    assertTrue(anyChanged);
    ImageU8 perChannel = new GaussNoise(40, 40, 0, true, 1).apply(grey, new SplittableRandom(8));
    int colourful = 0;
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        colourful += perChannel.get(y, x, 0) != perChannel.get(y, x, 1) ? 1 : 0;
      }
    }
    assertTrue(colourful > 200, "per-channel noise differs between channels: " + colourful);
  }

  @Test
  void meanShiftsTheNoise() {
    ImageU8 grey = TestImages.constant(128, 128, 1, 100);
    ImageU8 out = new GaussNoise(1, 1, 20, true, 1).apply(grey, new SplittableRandom(2));
    double sum = 0;
    for (int v : TestImages.values(out)) {
      sum += v;
    }
    assertEquals(119.5, sum / (128 * 128), 0.1);
  }
}
