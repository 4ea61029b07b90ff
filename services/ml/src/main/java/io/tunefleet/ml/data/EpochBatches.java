package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.InputPipeline;
import java.util.ArrayList;
import java.util.List;

/**
 * How an epoch's sample order becomes batches: consecutive slices of {@code batchSize}, the short
 * remainder folded into the last step (a batch of one image would break BatchNorm's batch statistics),
 * each image decoded when its batch is made and augmented with the random stream of its position in the epoch. One definition, used by the
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
  public static ImageBatch build(Samples train, int[] order, int step, int batchSize, Augmentation augmentation,
      long seed, String job, int epoch) {
    int[] r = range(step, order.length, batchSize);
    List<ImageU8> images = new ArrayList<>(r[1] - r[0]);
    int[] labels = new int[r[1] - r[0]];
    int[] index = new int[r[1] - r[0]];
    int[] trainLabels = train.labels();
    int[] trainIndex = train.sourceIndex();
    for (int i = r[0]; i < r[1]; i++) {
      int pos = order[i];
      // a photo dataset decodes here, one batch at a time
      images.add(augmentation.apply(train.image(pos), AugmentationPipeline.rngFor(seed, job, epoch, i)));
      labels[i - r[0]] = trainLabels[pos];
      index[i - r[0]] = trainIndex[pos];
    }
    return ImageBatch.of(images, labels, index);
  }

  /**
   * Every sample in the evaluation view of {@code pipeline} (resize + centre crop; the identity for a dataset
   * already at the input size), in order, decoded one at a time: the validation split, the curriculum's
   * unaugmented training split.
   */
  public static ImageBatch unaugmented(Samples samples, InputPipeline pipeline) {
    List<ImageU8> images = new ArrayList<>(samples.size());
    for (int i = 0; i < samples.size(); i++) {
      images.add(pipeline.evaluation(samples.image(i)));
    }
    return ImageBatch.of(images, samples.labels(), samples.sourceIndex());
  }
}
