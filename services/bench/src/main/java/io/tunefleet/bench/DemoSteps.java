package io.tunefleet.bench;

import ai.djl.Device;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.train.LabelSmoothingLoss;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.Architecture;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo model's training step (ResNet-10 w16, small stem, 28 px, 5 classes, batch 64, SGD, label smoothing,
 * everything trainable) on one fixed batch of random images: the loop that `bench-memory` and
 * `bench-neighbours` run. Call it on the torch thread, as the trainer does.
 */
final class DemoSteps implements AutoCloseable {
  static final int SIZE = 28;
  static final int BATCH = 64;
  static final int CLASSES = 5;

  final TrainingSession session;
  final ImageBatch batch;

  DemoSteps() {
    Architecture a = Architecture.newBuilder().setFamily("resnet10").setBaseWidth(16).setStem("small")
        .setNumClasses(CLASSES).build();
    SplittableRandom rng = new SplittableRandom(0);
    List<ImageU8> images = new ArrayList<>();
    int[] labels = new int[BATCH];
    for (int i = 0; i < BATCH; i++) {
      byte[] px = new byte[SIZE * SIZE * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      images.add(new ImageU8(SIZE, SIZE, 3, px));
      labels[i] = rng.nextInt(CLASSES);
    }
    batch = ImageBatch.of(images, labels, new int[BATCH]);
    session = TrainingSession.create(a, SIZE, new TrainingSession.Config(0.01f, 0.01f, 0.9f, 5e-4f,
        new LabelSmoothingLoss(0.1f), UnfreezeSchedule.everythingTrainable(), 10), Device.cpu());
  }

  @Override
  public void close() {
    session.close();
  }
}
