package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.InputPipeline;
import io.tunefleet.ml.bench.SyntheticPhotos;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.proto.v1.DatasetSpec;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's batches decoded and augmented on several threads are the batches of one thread, byte for byte: each
 * sample's random stream comes from its position in the epoch, never from the thread that runs it.
 */
class ParallelEpochBatchesTest {
  @TempDir Path root;

  private Samples photos(Path folder) throws Exception {
    SyntheticPhotos.writeFolder(folder, List.of("ants", "bees", "wasps"), 10, 80, 200, 7);
    return DatasetLoader.load(DatasetSpec.newBuilder().setFormat("image_folder").setImages(folder.toString()).build(), 3,
        new PathPolicy(List.of(root))).samples();
  }

  private static List<byte[]> epoch(Samples train, Augmentation aug, int threads, int epoch) {
    int[] order = EpochSampler.order(train.labels(), train.numClasses(), epoch, 11L, false);
    ExecutorService workers = Executors.newFixedThreadPool(threads);
    try {
      List<byte[]> out = new ArrayList<>();
      int steps = EpochBatches.steps(order.length, 8);
      // as the augmenter runs it: step s+1 started before step s is joined
      EpochBatches.Pending next = EpochBatches.start(train, order, 0, 8, aug, 11L, "job-p", epoch, workers);
      for (int s = 0; s < steps; s++) {
        EpochBatches.Pending current = next;
        next = s + 1 < steps ? EpochBatches.start(train, order, s + 1, 8, aug, 11L, "job-p", epoch, workers) : null;
        out.add(BatchCodec.encode(current.join()));
      }
      return out;
    } finally {
      workers.shutdownNow();
    }
  }

  @Test
  void twoAndFourThreadsMakeTheBatchesOfOneThread() throws Exception {
    Samples train = photos(root.resolve("photos"));
    // the training view: a random resized crop, then the default recipe (a horizontal flip), both from the sample's stream
    Augmentation aug = new InputPipeline(48, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, false)
        .training(AugmentationPipeline.fromSpec(AugmentationPipeline.defaultSpec()));
    for (int epoch = 0; epoch < 2; epoch++) {
      List<byte[]> one = epoch(train, aug, 1, epoch);
      assertEquals(3, one.size(), "30 photos in batches of 8: 3 steps, the remainder folded into the last");
      for (int threads : new int[] {2, 4}) {
        List<byte[]> many = epoch(train, aug, threads, epoch);
        assertEquals(one.size(), many.size());
        for (int s = 0; s < one.size(); s++) {
          assertArrayEquals(one.get(s), many.get(s), "epoch " + epoch + " step " + s + " with " + threads + " threads");
        }
      }
      // and the same as the single-threaded definition the in-process runs use
      int[] order = EpochSampler.order(train.labels(), train.numClasses(), epoch, 11L, false);
      for (int s = 0; s < one.size(); s++) {
        assertArrayEquals(one.get(s), BatchCodec.encode(EpochBatches.build(train, order, s, 8, aug, 11L, "job-p", epoch)));
      }
    }
  }

  @Test
  void decodingOnlyTheCropsRegionGivesThePixelsOfDecodingTheWholePhoto() throws Exception {
    PhotoSamples photos = (PhotoSamples) photos(root.resolve("regions"));
    InputPipeline.Training training = (InputPipeline.Training) new InputPipeline(48, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, false)
        .training(AugmentationPipeline.fromSpec(AugmentationPipeline.defaultSpec()));
    // every flavour of the folder (progressive, EXIF-rotated, gray, CMYK JPEGs; PNGs), several crops each
    for (int pos = 0; pos < photos.size(); pos++) {
      for (long seed = 0; seed < 4; seed++) {
        ImageU8 whole = training.apply(photos.image(pos), new java.util.SplittableRandom(seed));
        ImageU8 region = training.apply(photos.source(pos), new java.util.SplittableRandom(seed));
        assertArrayEquals(whole.pixels(), region.pixels(), photos.entries().get(pos).location() + " seed " + seed);
      }
    }
  }

  @Test
  void anUnreadablePhotoFailsItsBatchWithItsName() throws Exception {
    Path folder = root.resolve("spoilt");
    Samples train = photos(folder);
    // the header was sound at indexing time; the pixels are not by the time the batch is made
    Path victim = Path.of(((PhotoSamples) train).entries().get(4).location());
    byte[] bytes = Files.readAllBytes(victim);
    Files.write(victim, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    int[] order = java.util.stream.IntStream.range(0, train.size()).toArray();
    ExecutorService workers = Executors.newFixedThreadPool(2);
    try {
      EpochBatches.Pending p = EpochBatches.start(train, order, 0, 8, (img, rng) -> img, 1L, "job-u", 0, workers);
      UncheckedIOException e = assertThrows(UncheckedIOException.class, p::join);
      assertTrue(e.getCause().getMessage().contains(victim.getFileName().toString()), e.getCause().getMessage());
    } finally {
      workers.shutdownNow();
    }
  }
}
