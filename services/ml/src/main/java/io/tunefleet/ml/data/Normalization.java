package io.tunefleet.ml.data;

import java.util.Arrays;
import java.util.Locale;

/** How 8-bit pixels become the network's input: {@code (x / 255 - mean) / std} per RGB channel. */
public enum Normalization {
  /** torchvision's ImageNet statistics: what a torchvision-pretrained network was trained with. */
  IMAGENET("imagenet", new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}),
  /** {@code x / 127.5 - 1}: pixels in [-1, 1], what the fleet used before it recorded a normalisation. */
  HALF("half", new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});

  private final String id;
  private final float[] mean;
  private final float[] std;

  Normalization(String id, float[] mean, float[] std) {
    this.id = id;
    this.mean = mean;
    this.std = std;
  }

  /** The name in requests, manifests and model cards. */
  public String id() {
    return id;
  }

  /** Per-channel mean (R, G, B) on pixels scaled to [0, 1]. */
  public float[] mean() {
    return mean.clone();
  }

  /** Per-channel standard deviation (R, G, B) on pixels scaled to [0, 1]. */
  public float[] std() {
    return std.clone();
  }

  /** The normalisation a manifest or request names; empty means {@link #HALF} (files from before the field). */
  public static Normalization fromId(String id) {
    if (id == null || id.isEmpty()) {
      return HALF;
    }
    for (Normalization n : values()) {
      if (n.id.equals(id.toLowerCase(Locale.ROOT))) {
        return n;
      }
    }
    throw new IllegalArgumentException("unknown normalization '" + id + "', expected one of "
        + Arrays.stream(values()).map(Normalization::id).toList());
  }
}
