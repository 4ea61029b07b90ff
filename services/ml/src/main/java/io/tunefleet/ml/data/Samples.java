package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The images of a dataset or split, by position: labels and source indices at hand, pixels on request. An
 * in-memory dataset ({@link LabeledImages}) returns its images; a photo dataset ({@link PhotoSamples}) decodes
 * the file when a batch needs it.
 */
public interface Samples {
  int size();

  /** Labels 0..k-1 by position. */
  int[] labels();

  /** Each image's index in its source (file order, manifest row), by position. */
  int[] sourceIndex();

  List<String> classNames();

  /** The pixels of the image at {@code position}; an {@link UncheckedIOException} wrapping an {@link UnreadableImageException} when its file cannot be decoded. */
  ImageU8 image(int position);

  /** The samples at {@code positions}, in that order. */
  Samples subset(int[] positions);

  default int numClasses() {
    return classNames().size();
  }

  /** Images per class, indexed by label. */
  default int[] classCounts() {
    int[] counts = new int[numClasses()];
    for (int label : labels()) {
      counts[label]++;
    }
    return counts;
  }
}
