package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code GaussNoise} (1.x semantics): draws a variance uniformly from
 * [varMin, varMax], adds N(mean, variance) noise to every pixel and channel (or one value per pixel,
 * shared by its channels, when not {@code perChannel}), clips to [0, 255] and truncates like NumPy's
 * {@code astype(uint8)}. Defaults: var_limit (10, 50), mean 0, per_channel true, p = 0.5.
 *
 * <p>Normal samples come from {@link StandardNormalTable} indexed by 16-bit slices of a SplitMix64
 * stream seeded from {@code rng}: one table load per sample instead of a Box-Muller or ziggurat
 * evaluation, with exactly the right mean and variance.
 */
public final class GaussNoise extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;
  public static final double DEFAULT_VAR_MIN = 10.0;
  public static final double DEFAULT_VAR_MAX = 50.0;
  public static final double DEFAULT_MEAN = 0.0;

  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private final double varMin;
  private final double varMax;
  private final double mean;
  private final boolean perChannel;

  public GaussNoise(double varMin, double varMax, double mean, boolean perChannel, double p) {
    super(p);
    if (!(varMin >= 0 && varMax >= varMin && Double.isFinite(varMax) && Double.isFinite(mean))) {
      throw new IllegalArgumentException("need 0 <= varMin <= varMax and a finite mean, was "
          + varMin + ", " + varMax + ", " + mean);
    }
    this.varMin = varMin;
    this.varMax = varMax;
    this.mean = mean;
    this.perChannel = perChannel;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    double variance = varMin + (varMax - varMin) * rng.nextDouble();
    return addNoise(image, (float) mean, (float) Math.sqrt(variance), perChannel, rng.nextLong());
  }

  /** Adds N(mean, sigma^2) noise, clipped to [0, 255] and truncated; the noise depends only on seed. */
  static ImageU8 addNoise(ImageU8 src, float mean, float sigma, boolean perChannel, long seed) {
    byte[] in = src.pixels();
    byte[] out = new byte[in.length];
    float[] table = StandardNormalTable.VALUES;
    long state = seed;
    if (perChannel || src.channels() == 1) {
      int len = in.length;
      int i = 0;
      for (; i + 4 <= len; i += 4) {
        state += GOLDEN_GAMMA;
        long bits = mix64(state);
        out[i] = noisy(in[i], mean, sigma, table[(int) bits & 0xFFFF]);
        out[i + 1] = noisy(in[i + 1], mean, sigma, table[(int) (bits >>> 16) & 0xFFFF]);
        out[i + 2] = noisy(in[i + 2], mean, sigma, table[(int) (bits >>> 32) & 0xFFFF]);
        out[i + 3] = noisy(in[i + 3], mean, sigma, table[(int) (bits >>> 48)]);
      }
      if (i < len) {
        state += GOLDEN_GAMMA;
        long bits = mix64(state);
        for (; i < len; i++, bits >>>= 16) {
          out[i] = noisy(in[i], mean, sigma, table[(int) bits & 0xFFFF]);
        }
      }
    } else {
      int c = src.channels();
      int pixels = src.height() * src.width();
      long bits = 0;
      for (int px = 0; px < pixels; px++) {
        if ((px & 3) == 0) {
          state += GOLDEN_GAMMA;
          bits = mix64(state);
        }
        float z = table[(int) (bits >>> ((px & 3) << 4)) & 0xFFFF];
        for (int ch = 0, o = px * c; ch < c; ch++, o++) {
          out[o] = noisy(in[o], mean, sigma, z);
        }
      }
    }
    return new ImageU8(src.height(), src.width(), src.channels(), out);
  }

  private static byte noisy(byte pixel, float mean, float sigma, float z) {
    float v = (pixel & 0xFF) + mean + sigma * z;
    return (byte) (int) Math.min(255f, Math.max(0f, v));
  }

  /** SplitMix64's output function (Stafford variant 13). */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override
  public String toString() {
    return "GaussNoise(var_limit=(" + varMin + ", " + varMax + "), mean=" + mean + ", per_channel="
        + perChannel + ", p=" + p() + ")";
  }
}
