package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.util.List;

/**
 * A batch of equally sized 8-bit HWC images with their labels and source indices, as written to and
 * read from the blob store by {@link BatchCodec}. Pixels of image i start at {@code i·h·w·c}.
 */
public record ImageBatch(int size, int height, int width, int channels, int[] labels, int[] sourceIndex, byte[] pixels) {
  public ImageBatch {
    if (labels.length != size || sourceIndex.length != size || pixels.length != (long) size * height * width * channels) {
      throw new IllegalArgumentException("batch arrays do not match its shape " + size + "x" + height + "x" + width + "x" + channels);
    }
  }

  public static ImageBatch of(List<ImageU8> images, int[] labels, int[] sourceIndex) {
    ImageU8 first = images.get(0);
    int per = first.height() * first.width() * first.channels();
    byte[] pixels = new byte[per * images.size()];
    for (int i = 0; i < images.size(); i++) {
      ImageU8 img = images.get(i);
      if (img.height() != first.height() || img.width() != first.width() || img.channels() != first.channels()) {
        throw new IllegalArgumentException("image " + i + " is " + img + ", the batch's first is " + first);
      }
      System.arraycopy(img.pixels(), 0, pixels, i * per, per);
    }
    return new ImageBatch(images.size(), first.height(), first.width(), first.channels(), labels, sourceIndex, pixels);
  }

  public static ImageBatch of(LabeledImages data) {
    return of(data.images(), data.labels(), data.sourceIndex());
  }

  /** The positions {@code from..to-1} of this batch as a batch of their own (pixels copied). */
  public ImageBatch slice(int from, int to) {
    int per = height * width * channels;
    byte[] p = java.util.Arrays.copyOfRange(pixels, from * per, to * per);
    return new ImageBatch(to - from, height, width, channels,
        java.util.Arrays.copyOfRange(labels, from, to), java.util.Arrays.copyOfRange(sourceIndex, from, to), p);
  }
}
