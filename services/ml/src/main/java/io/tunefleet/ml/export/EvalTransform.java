package io.tunefleet.ml.export;

import io.tunefleet.ml.augment.InputPipeline;

/**
 * How an image of any size becomes the model's {@code height x width} input at evaluation, as the model card
 * states it: torchvision's {@code Resize(round(size / 0.875))} of the shorter side then {@code CenterCrop(size)}
 * ({@link #resizeCenterCrop}), or {@link #identity} when the training images already were that size and were used
 * whole (an image of another size is then resized to it, the whole frame, as the training images were framed).
 */
public record EvalTransform(String kind, int height, int width, int resizeShorterSide) {
  /** Kind of {@link #resizeCenterCrop}. */
  public static final String RESIZE_CENTER_CROP = "resize_center_crop";
  /** Kind of {@link #identity}. */
  public static final String IDENTITY = "identity";

  public EvalTransform {
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("eval transform: input size must be positive, was " + height + "x" + width);
    }
  }

  /** torchvision's evaluation transform for square inputs of {@code size}: the fleet's default resize. */
  public static EvalTransform resizeCenterCrop(int size) {
    return resizeCenterCrop(size, InputPipeline.defaultResizeSize(size));
  }

  /** Resize the shorter side to {@code resizeShorterSide} ({@code recipe.eval_resize_size}), centre-crop {@code size}. */
  public static EvalTransform resizeCenterCrop(int size, int resizeShorterSide) {
    return new EvalTransform(RESIZE_CENTER_CROP, size, size, resizeShorterSide);
  }

  /** The training images were {@code height x width} and fed whole: nothing to do for an image of that size. */
  public static EvalTransform identity(int height, int width) {
    return new EvalTransform(IDENTITY, height, width, 0);
  }
}
