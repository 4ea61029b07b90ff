package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.InputPipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

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
      images.add(augment(train, pos, augmentation, AugmentationPipeline.rngFor(seed, job, epoch, i)));
      labels[i - r[0]] = trainLabels[pos];
      index[i - r[0]] = trainIndex[pos];
    }
    return ImageBatch.of(images, labels, index);
  }

  /**
   * The training view of one sample. A photo under a random resized crop is decoded only as far as its crop
   * reaches ({@link InputPipeline.Training#apply(io.tunefleet.ml.augment.RegionSource, java.util.SplittableRandom)});
   * the pixels are those of decoding it whole.
   */
  static ImageU8 augment(Samples train, int pos, Augmentation augmentation, java.util.SplittableRandom rng) {
    if (augmentation instanceof InputPipeline.Training t && train instanceof PhotoSamples photos) {
      return t.apply(photos.source(pos), rng);
    }
    return augmentation.apply(train.image(pos), rng);
  }

  /**
   * Starts step {@code step} on {@code workers}, one task per sample: the batch is the same as {@link #build}'s,
   * whichever thread decodes which sample, because each sample's random stream is drawn from its position in
   * the epoch alone. The caller may start the next step before joining this one, so that the workers decode it
   * while the caller encodes and writes.
   */
  public static Pending start(Samples train, int[] order, int step, int batchSize, Augmentation augmentation,
      long seed, String job, int epoch, ExecutorService workers) {
    int[] r = range(step, order.length, batchSize);
    int n = r[1] - r[0];
    List<Future<ImageU8>> images = new ArrayList<>(n);
    int[] labels = new int[n];
    int[] index = new int[n];
    int[] trainLabels = train.labels();
    int[] trainIndex = train.sourceIndex();
    for (int i = r[0]; i < r[1]; i++) {
      int pos = order[i];
      int sample = i;
      images.add(workers.submit(() -> augment(train, pos, augmentation, AugmentationPipeline.rngFor(seed, job, epoch, sample))));
      labels[i - r[0]] = trainLabels[pos];
      index[i - r[0]] = trainIndex[pos];
    }
    return new Pending(images, labels, index);
  }

  /** A batch whose samples are being decoded and augmented on worker threads. */
  public static final class Pending {
    private final List<Future<ImageU8>> images;
    private final int[] labels;
    private final int[] index;

    private Pending(List<Future<ImageU8>> images, int[] labels, int[] index) {
      this.images = images;
      this.labels = labels;
      this.index = index;
    }

    /**
     * Waits for every sample and assembles the batch. A sample's failure (an unreadable photo, an
     * OutOfMemoryError) is rethrown as itself, the first in batch order, after the other samples are cancelled.
     */
    public ImageBatch join() {
      List<ImageU8> out = new ArrayList<>(images.size());
      try {
        for (Future<ImageU8> f : images) {
          out.add(f.get());
        }
      } catch (ExecutionException e) {
        cancel();
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        cancel();
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted while a batch was being augmented");
      }
      return ImageBatch.of(out, labels, index);
    }

    /** Stops the samples not yet started (a failed sibling batch, a failed job). */
    public void cancel() {
      images.forEach(f -> f.cancel(false));
    }
  }

  /**
   * The samples at {@code positions}, in order, in the evaluation view of {@code pipeline} (resize + centre crop;
   * the identity for a dataset already at the input size), decoded on {@code workers}: the validation split and the
   * curriculum's unaugmented training split, whole or shard by shard.
   */
  public static Pending unaugmented(Samples samples, int[] positions, InputPipeline pipeline, ExecutorService workers) {
    Augmentation view = (image, rng) -> pipeline.evaluation(image);
    return start(samples, positions, 0, Math.max(1, positions.length), view, 0, "", 0, workers);
  }
}
