package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.ImageU8;
import java.util.ArrayList;
import java.util.List;

/**
 * How an epoch's sample order becomes batches: consecutive slices of {@code batchSize}, the short
 * remainder folded into the last step (a batch of one image would break BatchNorm's batch statistics),
 * each image augmented with the random stream of its position in the epoch. One definition, used by the
 * augmenter and by the in-process runs (ablations, benchmarks), so both see the same batches.
 */
public final class EpochBatches {
  private EpochBatches() {}

  /** The number of steps of an epoch of {@code samples} images. */
  public static int steps(int samples, int batchSize) {
    return Math.max(1, samples / batchSize);
  }

  /** The positions {@code [from, to)} of the epoch order that step {@code step} takes. */
  public static int[] range(int step, int samples, int batchSize) {
    int from = step * batchSize;
    int to = step == steps(samples, batchSize) - 1 ? samples : from + batchSize;
    return new int[] {from, to};
  }

  /** Step {@code step} of an epoch whose samples are {@code order} (positions into {@code train}), augmented. */
  public static ImageBatch build(LabeledImages train, int[] order, int step, int batchSize, Augmentation augmentation,
      long seed, String job, int epoch) {
    int[] r = range(step, order.length, batchSize);
    List<ImageU8> images = new ArrayList<>(r[1] - r[0]);
    int[] labels = new int[r[1] - r[0]];
    int[] index = new int[r[1] - r[0]];
    for (int i = r[0]; i < r[1]; i++) {
      int pos = order[i];
      images.add(augmentation.apply(train.images().get(pos), AugmentationPipeline.rngFor(seed, job, epoch, i)));
      labels[i - r[0]] = train.labels()[pos];
      index[i - r[0]] = train.sourceIndex()[pos];
    }
    return ImageBatch.of(images, labels, index);
  }
}
