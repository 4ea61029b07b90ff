package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations {@code MedianBlur}: {@code cv2.medianBlur} (BORDER_REPLICATE) with an odd aperture
 * drawn from {blurMin, blurMin + 2, ..., blurLimit}. Default blur limit (3, 7), p = 0.5. Exact.
 */
public final class MedianBlur extends ProbabilisticTransform {
  public static final double DEFAULT_P = 0.5;
  public static final int DEFAULT_BLUR_MIN = 3;
  public static final int DEFAULT_BLUR_LIMIT = 7;
  public static final int MAX_BLUR_LIMIT = 15;

  private final int blurMin;
  private final int blurLimit;

  public MedianBlur(int blurMin, int blurLimit, double p) {
    super(p);
    if (blurMin < 3 || blurMin % 2 == 0 || blurLimit % 2 == 0 || blurLimit < blurMin
        || blurLimit > MAX_BLUR_LIMIT) {
      throw new IllegalArgumentException("need odd 3 <= blurMin <= blurLimit <= " + MAX_BLUR_LIMIT
          + ", was " + blurMin + ", " + blurLimit);
    }
    this.blurMin = blurMin;
    this.blurLimit = blurLimit;
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    int ksize = blurMin + 2 * rng.nextInt((blurLimit - blurMin) / 2 + 1);
    return MedianFilter.median(image, ksize);
  }

  @Override
  public String toString() {
    return "MedianBlur(blur_limit=(" + blurMin + ", " + blurLimit + "), p=" + p() + ")";
  }
}
