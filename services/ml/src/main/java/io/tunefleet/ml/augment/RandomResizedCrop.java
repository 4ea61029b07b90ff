package io.tunefleet.ml.augment;

import java.util.SplittableRandom;

/**
 * Albumentations/torchvision {@code RandomResizedCrop}: a crop with area fraction uniform in
 * [scaleMin, scaleMax] of the image and aspect ratio log-uniform in [ratioMin, ratioMax] (10
 * attempts, then the centre crop closest to the ratio range), resized bilinearly to height x width.
 * Defaults: scale (0.08, 1), ratio (3/4, 4/3), p = 1.
 */
public final class RandomResizedCrop extends ProbabilisticTransform {
  public static final double DEFAULT_P = 1.0;
  public static final double DEFAULT_SCALE_MIN = 0.08;
  public static final double DEFAULT_SCALE_MAX = 1.0;
  public static final double DEFAULT_RATIO_MIN = 0.75;
  public static final double DEFAULT_RATIO_MAX = 4.0 / 3.0;

  private final int height;
  private final int width;
  private final double scaleMin;
  private final double scaleMax;
  private final double ratioMin;
  private final double ratioMax;

  public RandomResizedCrop(int height, int width, double scaleMin, double scaleMax, double ratioMin,
      double ratioMax, double p) {
    super(p);
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("target size must be positive, was " + height + "x" + width);
    }
    if (!(scaleMin > 0 && scaleMax >= scaleMin && scaleMax <= 1)) {
      throw new IllegalArgumentException("need 0 < scaleMin <= scaleMax <= 1, was " + scaleMin + ", " + scaleMax);
    }
    if (!(ratioMin > 0 && ratioMax >= ratioMin && Double.isFinite(ratioMax))) {
      throw new IllegalArgumentException("need 0 < ratioMin <= ratioMax, was " + ratioMin + ", " + ratioMax);
    }
    this.height = height;
    this.width = width;
    this.scaleMin = scaleMin;
    this.scaleMax = scaleMax;
    this.ratioMin = ratioMin;
    this.ratioMax = ratioMax;
  }

  /** A crop rectangle: top-left corner and size, in source pixels. */
  record Crop(int y, int x, int height, int width) {}

  @Override
  public ImageU8 applyAlways(ImageU8 image, SplittableRandom rng) {
    Crop crop = sampleCrop(image.height(), image.width(), rng);
    return BilinearResize.resize(image, crop.y(), crop.x(), crop.height(), crop.width(), height, width);
  }

  Crop sampleCrop(int imageHeight, int imageWidth, SplittableRandom rng) {
    double area = (double) imageHeight * imageWidth;
    double logRatioMin = Math.log(ratioMin);
    double logRatioMax = Math.log(ratioMax);
    for (int attempt = 0; attempt < 10; attempt++) {
      double targetArea = (scaleMin + (scaleMax - scaleMin) * rng.nextDouble()) * area;
      double aspect = Math.exp(logRatioMin + (logRatioMax - logRatioMin) * rng.nextDouble());
      // Python's round() rounds half to even, like Math.rint.
      int w = (int) Math.rint(Math.sqrt(targetArea * aspect));
      int h = (int) Math.rint(Math.sqrt(targetArea / aspect));
      if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight) {
        int i = rng.nextInt(imageHeight - h + 1);
        int j = rng.nextInt(imageWidth - w + 1);
        return new Crop(i, j, h, w);
      }
    }
    double inRatio = (double) imageWidth / imageHeight;
    int w;
    int h;
    if (inRatio < ratioMin) {
      w = imageWidth;
      h = (int) Math.rint(w / ratioMin);
    } else if (inRatio > ratioMax) {
      h = imageHeight;
      w = (int) Math.rint(h * ratioMax);
    } else {
      w = imageWidth;
      h = imageHeight;
    }
    return new Crop((imageHeight - h) / 2, (imageWidth - w) / 2, h, w);
  }

  @Override
  public String toString() {
    return "RandomResizedCrop(" + height + "x" + width + ", scale=(" + scaleMin + ", " + scaleMax
        + "), ratio=(" + ratioMin + ", " + ratioMax + "), p=" + p() + ")";
  }
}
