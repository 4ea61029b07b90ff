package io.tunefleet.ml.augment;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * torchvision's reference input pipeline: how a photo of any size becomes the {@code imageSize} square the
 * network sees. Training: {@code RandomResizedCrop(imageSize)} (scale 0.08–1, ratio 3/4–4/3) or, for tasks
 * where cropping hurts, the evaluation geometry; then the recipe's ops. Evaluation (validation, distillation,
 * t-SNE, the recorded preprocessing): {@code Resize(round(imageSize / 0.875))} of the shorter side, then
 * {@code CenterCrop(imageSize)}. Resizing is bilinear with antialiasing, as torchvision does. When every image
 * of the dataset already is an {@code imageSize} square ({@code identity}), both are the identity: such a
 * dataset (Fashion-MNIST at 28) trains exactly as before the pipeline existed.
 */
public final class InputPipeline {
  /** The fraction of the resized image the centre crop keeps (torchvision's 224 of 256). */
  public static final double CROP_FRACTION = 0.875;

  /** How a training image is brought to the input size. */
  public enum TrainCrop {
    RANDOM_RESIZED_CROP("random_resized_crop"),
    CENTER_CROP("center_crop");

    private final String id;

    TrainCrop(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }

    public static TrainCrop fromId(String id) {
      for (TrainCrop t : values()) {
        if (t.id.equals(id.toLowerCase(Locale.ROOT))) {
          return t;
        }
      }
      throw new IllegalArgumentException("must be one of " + Arrays.stream(values()).map(TrainCrop::id).toList()
          + ", was '" + id + "'");
    }
  }

  private final int imageSize;
  private final TrainCrop trainCrop;
  private final boolean identity;
  private final int resizeSize;
  private final RandomResizedCrop sampler;

  /** torchvision's default evaluation geometry: resize to {@code round(imageSize / 0.875)}, crop {@code imageSize}. */
  public InputPipeline(int imageSize, TrainCrop trainCrop, boolean identity) {
    this(imageSize, defaultResizeSize(imageSize), trainCrop, identity);
  }

  /** torchvision's evaluation resize for a crop of {@code imageSize}: {@code round(imageSize / 0.875)}, 256 for 224. */
  public static int defaultResizeSize(int imageSize) {
    return (int) Math.round(imageSize / CROP_FRACTION);
  }

  /** Evaluation resizes the shorter side to {@code resizeSize} ({@code recipe.eval_resize_size}), then crops. */
  public InputPipeline(int imageSize, int resizeSize, TrainCrop trainCrop, boolean identity) {
    if (imageSize <= 0 || resizeSize < imageSize) {
      throw new IllegalArgumentException("image size must be positive and at most the resize size, was " + imageSize
          + " and " + resizeSize);
    }
    this.imageSize = imageSize;
    this.resizeSize = resizeSize;
    this.trainCrop = trainCrop;
    this.identity = identity;
    this.sampler = new RandomResizedCrop(imageSize, imageSize, RandomResizedCrop.DEFAULT_SCALE_MIN,
        RandomResizedCrop.DEFAULT_SCALE_MAX, RandomResizedCrop.DEFAULT_RATIO_MIN, RandomResizedCrop.DEFAULT_RATIO_MAX, 1.0);
  }

  public int imageSize() {
    return imageSize;
  }

  /** The shorter side before the centre crop: by default {@code round(imageSize / 0.875)}, 256 for 224. */
  public int resizeSize() {
    return resizeSize;
  }

  /** The evaluation view of {@code image}: resize of the shorter side, then centre crop. */
  public ImageU8 evaluation(ImageU8 image) {
    if (identity) {
      return image;
    }
    return centerCrop(resizeShorterSide(image, resizeSize()), imageSize);
  }

  /** The training transform: the input crop (drawing from the sample's random stream first), then {@code recipeOps}. */
  public Augmentation training(Augmentation recipeOps) {
    if (identity) {
      return recipeOps;
    }
    return new Training(recipeOps);
  }

  /**
   * The training transform of a photo dataset: the same crop, drawn from the same stream, but taken from a
   * {@link RegionSource}, so the decoder produces only the rows and columns the crop needs. The result is the
   * {@link Augmentation#apply} of the decoded whole image, byte for byte.
   */
  public final class Training implements Augmentation {
    private final Augmentation recipeOps;

    private Training(Augmentation recipeOps) {
      this.recipeOps = recipeOps;
    }

    @Override
    public ImageU8 apply(ImageU8 image, SplittableRandom rng) {
      return recipeOps.apply(trainingCrop(image, rng), rng);
    }

    /** {@link #apply} of {@code source}'s image, decoding only the crop's region when the crop is random. */
    public ImageU8 apply(RegionSource source, SplittableRandom rng) {
      if (trainCrop == TrainCrop.CENTER_CROP) {
        return apply(source.whole(), rng);
      }
      RandomResizedCrop.Crop c = sampler.sampleCrop(source.height(), source.width(), rng);
      ImageU8 region = source.region(c.y(), c.x(), c.height(), c.width());
      return recipeOps.apply(AntialiasedResize.resize(region, 0, 0, c.height(), c.width(), imageSize, imageSize), rng);
    }
  }

  /** The evaluation geometry followed by {@code recipeOps} (the distillation phase's inputs). */
  public Augmentation evaluationThen(Augmentation recipeOps) {
    if (identity) {
      return recipeOps;
    }
    return (image, rng) -> recipeOps.apply(evaluation(image), rng);
  }

  /** In words, for statuses and reports. */
  public String describe() {
    if (identity) {
      return "images used as they are";
    }
    String eval = "resize " + resizeSize() + " + centre crop " + imageSize;
    return (trainCrop == TrainCrop.CENTER_CROP ? eval : "random resized crop " + imageSize) + " for training, "
        + eval + " for evaluation";
  }

  ImageU8 trainingCrop(ImageU8 image, SplittableRandom rng) {
    if (trainCrop == TrainCrop.CENTER_CROP) {
      return evaluation(image);
    }
    RandomResizedCrop.Crop c = sampler.sampleCrop(image.height(), image.width(), rng);
    return AntialiasedResize.resize(image, c.y(), c.x(), c.height(), c.width(), imageSize, imageSize);
  }

  /**
   * torchvision's {@code resize(img, size)}: the shorter side becomes {@code size}, the longer one
   * {@code int(size * long / short)}; an image whose shorter side already is {@code size} is returned as is.
   */
  public static ImageU8 resizeShorterSide(ImageU8 image, int size) {
    int h = image.height();
    int w = image.width();
    int shorter = Math.min(h, w);
    int longer = Math.max(h, w);
    if (shorter == size) {
      return image;
    }
    int newLong = (int) ((double) size * longer / shorter);
    return w <= h ? AntialiasedResize.resize(image, newLong, size) : AntialiasedResize.resize(image, size, newLong);
  }

  /** torchvision's {@code center_crop}: top/left at {@code round((side - size) / 2)}, halves to even. */
  public static ImageU8 centerCrop(ImageU8 image, int size) {
    if (image.height() < size || image.width() < size) {
      throw new IllegalArgumentException(image + " is smaller than the crop " + size);
    }
    int top = (int) Math.rint((image.height() - size) / 2.0);
    int left = (int) Math.rint((image.width() - size) / 2.0);
    if (top == 0 && left == 0 && image.height() == size && image.width() == size) {
      return image;
    }
    return BilinearResize.crop(image, top, left, size, size);
  }
}
