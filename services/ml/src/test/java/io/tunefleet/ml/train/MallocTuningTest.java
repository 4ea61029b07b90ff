package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.ModelManifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MallocTuningTest {
  /** The demo job's model, image size and batch: glibc's defaults fault 5,000-10,000 pages back in per step. */
  private static final Architecture DEMO =
      Architecture.newBuilder().setFamily("resnet10").setBaseWidth(16).setStem("small").setNumClasses(10).build();
  private static final int SIZE = 28;
  private static final int BATCH = 64;

  @Test
  void trainingStepsReuseTheMemoryTheLastStepFreedInsteadOfFaultingItBackIn() throws Exception {
    String outcome = assumeGlibcTunedHere();
    assertTrue(outcome.startsWith("glibc malloc keeps freed memory"), outcome);

    ImageBatch batch = randomBatch(BATCH);
    double faultsPerStep = TorchThread.call(() -> {
      try (TrainingSession s = demoSession()) {
        s.beginEpoch(0);
        for (int i = 0; i < 10; i++) {
          s.step(batch);
        }
        long before = torchThreadFaults();
        for (int i = 0; i < 20; i++) {
          s.step(batch);
        }
        return (torchThreadFaults() - before) / 20.0;
      }
    });
    // glibc's defaults: 5,000-10,000 per step, every step; with the settings, 0-35
    assertTrue(faultsPerStep < 500, faultsPerStep + " minor page faults per step");
  }

  @Test
  void evaluationInLargeBatchesOnTheTorchThreadKeepsItsMemory() throws Exception {
    assumeGlibcTunedHere();

    ImageBatch batch = randomBatch(BATCH);
    ImageBatch validation = randomBatch(400);
    long[] faults = TorchThread.call(() -> {
      try (TrainingSession s = demoSession()) {
        s.beginEpoch(0);
        long[] perEvaluation = new long[8];
        for (int round = 0; round < perEvaluation.length; round++) {
          // as in a fleet: training steps, then the checkpoint scored in batches of 256
          for (int i = 0; i < 5; i++) {
            s.step(batch);
          }
          try (Classifier model = Classifier.load(s.save(ModelManifest.getDefaultInstance(), false),
              SIZE, Device.cpu())) {
            long before = torchThreadFaults();
            model.evaluate(validation, 256);
            perEvaluation[round] = torchThreadFaults() - before;
          }
        }
        return perEvaluation;
      }
    });
    // the first evaluations grow the arena (and a new peak can grow it again); after that, glibc's defaults
    // unmap and fault back 6,000-22,000 pages per evaluation, every time, and the top pad 0-2,000, mostly 0
    long[] later = Arrays.stream(faults, 2, faults.length).sorted().toArray();
    assertTrue(later[later.length / 2] < 1000, Arrays.toString(faults) + " minor page faults per evaluation of 400 images");
  }

  @Test
  void appliesOncePerProcess() throws Exception {
    assertEquals(MallocTuning.apply(), TorchThread.call(MallocTuning::apply));
  }

  @Test
  void leavesMallocAloneWhenTheOperatorTunedIt() {
    assertEquals(Optional.empty(), MallocTuning.reasonToLeaveAlone(Map.of()));
    assertEquals(Optional.of("FLEET_MALLOC_TUNING=off"), MallocTuning.reasonToLeaveAlone(Map.of("FLEET_MALLOC_TUNING", "off")));
    assertEquals(Optional.empty(), MallocTuning.reasonToLeaveAlone(Map.of("FLEET_MALLOC_TUNING", "on")));
    assertEquals(Optional.of("MALLOC_TRIM_THRESHOLD_ is set"),
        MallocTuning.reasonToLeaveAlone(Map.of("MALLOC_TRIM_THRESHOLD_", "0")));
    assertEquals(Optional.of("MALLOC_MMAP_THRESHOLD_ is set"),
        MallocTuning.reasonToLeaveAlone(Map.of("MALLOC_MMAP_THRESHOLD_", "131072")));
    assertEquals(Optional.of("GLIBC_TUNABLES sets glibc.malloc.trim_threshold"), MallocTuning.reasonToLeaveAlone(
        Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0")));
    assertEquals(Optional.of("jemalloc is preloaded"),
        MallocTuning.reasonToLeaveAlone(Map.of("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")));
    // the arena count, which containers often cap, does not touch the thresholds
    assertEquals(Optional.empty(), MallocTuning.reasonToLeaveAlone(
        Map.of("MALLOC_ARENA_MAX", "2", "GLIBC_TUNABLES", "glibc.malloc.arena_max=2")));
  }

  @Test
  void givesTheSameSettingsToAnotherProcessAsEnvironmentVariables() {
    assertEquals(Map.of("MALLOC_MMAP_THRESHOLD_", "33554432", "MALLOC_TRIM_THRESHOLD_", "1073741824", "MALLOC_TOP_PAD_", "67108864"),
        MallocTuning.environment());
    assertTrue(MallocTuning.reasonToLeaveAlone(MallocTuning.environment()).isPresent());
  }

  /** Applies the settings (on the torch thread, as the services do) and skips where they cannot apply. */
  private static String assumeGlibcTunedHere() throws Exception {
    assumeTrue(MallocTuning.reasonToLeaveAlone(System.getenv()).isEmpty(), "malloc is tuned by this environment");
    String outcome = TorchThread.call(MallocTuning::apply);
    assumeTrue(!outcome.contains("does not use glibc"), outcome);
    return outcome;
  }

  /** A training session of the demo job's model, everything trainable. */
  private static TrainingSession demoSession() {
    return TrainingSession.create(DEMO, SIZE, new TrainingSession.Config(0.01f, 0.01f, 0.9f, 5e-4f,
        new LabelSmoothingLoss(0.1f), UnfreezeSchedule.everythingTrainable(), 1000), Device.cpu());
  }

  private static ImageBatch randomBatch(int size) {
    SplittableRandom rng = new SplittableRandom(size);
    List<ImageU8> images = new ArrayList<>();
    int[] labels = new int[size];
    for (int i = 0; i < size; i++) {
      byte[] pixels = new byte[SIZE * SIZE * 3];
      for (int j = 0; j < pixels.length; j++) {
        pixels[j] = (byte) rng.nextInt(256);
      }
      images.add(new ImageU8(SIZE, SIZE, 3, pixels));
      labels[i] = rng.nextInt(10);
    }
    return ImageBatch.of(images, labels, new int[size]);
  }

  /**
   * Minor page faults of the torch thread and its OpenMP workers (which take its name), so that the JVM's own
   * threads, which fault pages in as the Java heap grows, do not count.
   */
  private static long torchThreadFaults() throws IOException {
    return NativeThreads.stats("torch").stream().mapToLong(NativeThreads::minorFaults).sum();
  }
}
