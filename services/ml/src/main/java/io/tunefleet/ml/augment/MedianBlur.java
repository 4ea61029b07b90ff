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

  private final KernelSizes sizes;

  public MedianBlur(int blurMin, int blurLimit, double p) {
    super(p);
    this.sizes = KernelSizes.odd(blurMin, blurLimit, MAX_BLUR_LIMIT);
  }

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    return MedianFilter.median(image, sizes.draw(rng));
  }

  @Override
  public String toString() {
    return "MedianBlur(" + sizes + ", p=" + p() + ")";
  }
}
