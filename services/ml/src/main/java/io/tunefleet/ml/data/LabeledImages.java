package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import java.util.List;

/**
 * A labelled image dataset in memory: images of one size (HWC, 3 channels), labels 0..k-1 and the
 * class names, plus each image's index in its source so that splits and batches stay traceable.
 */
public record LabeledImages(List<ImageU8> images, int[] labels, int[] sourceIndex, List<String> classNames)
    implements Samples {
  public LabeledImages {
    if (images.size() != labels.length || labels.length != sourceIndex.length) {
      throw new IllegalArgumentException("images, labels and indices differ in length");
    }
    images = List.copyOf(images);
    classNames = List.copyOf(classNames);
  }

  @Override
  public ImageU8 image(int position) {
    return images.get(position);
  }

  @Override
  public int size() {
    return images.size();
  }

  @Override
  public int numClasses() {
    return classNames.size();
  }

  public int height() {
    return images.get(0).height();
  }

  public int width() {
    return images.get(0).width();
  }

  /** Images per class, indexed by label. */
  @Override
  public int[] classCounts() {
    int[] counts = new int[numClasses()];
    for (int label : labels) {
      counts[label]++;
    }
    return counts;
  }

  @Override
  public LabeledImages subset(int[] positions) {
    ImageU8[] imgs = new ImageU8[positions.length];
    int[] l = new int[positions.length];
    int[] s = new int[positions.length];
    for (int i = 0; i < positions.length; i++) {
      imgs[i] = images.get(positions[i]);
      l[i] = labels[positions[i]];
      s[i] = sourceIndex[positions[i]];
    }
    return new LabeledImages(List.of(imgs), l, s, classNames);
  }
}
