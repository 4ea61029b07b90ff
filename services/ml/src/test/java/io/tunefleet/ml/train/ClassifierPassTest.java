package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.proto.v1.ModelManifest;
import org.junit.jupiter.api.Test;

/** Scoring in passes bounded by pixels: the pass size follows the image size, and never changes a prediction. */
class ClassifierPassTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  @Test
  void smallImagesGo256APassLargeOnesFewer() {
    assertEquals(256, Classifier.imagesPerPass(28, 28));
    assertEquals(256, Classifier.imagesPerPass(90, 90));
    assertEquals(41, Classifier.imagesPerPass(224, 224));
    assertEquals(14, Classifier.imagesPerPass(384, 384));
    assertEquals(1, Classifier.imagesPerPass(4000, 3000), "one image larger than a pass's pixels still goes alone");
  }

  @Test
  void theConfusionAndLossAreTheSameWhateverThePassSize() throws Exception {
    try (TrainingSession s = TrainingSession.create(TrainingSessionTest.TINY, 8,
        TrainingSessionTest.config(UnfreezeSchedule.everythingTrainable()), Device.cpu())) {
      // a few steps: BatchNorm's running statistics, used at inference, are no longer the initial ones
      for (int i = 0; i < 4; i++) {
        s.beginEpoch(0);
        s.step(TrainingSessionTest.batch(i));
      }
      ImageBatch data = TrainingSessionTest.batch(11);
      try (Classifier c = Classifier.load(s.save(ModelManifest.getDefaultInstance(), false), 8, Device.cpu())) {
        ConfusionMatrix whole = c.evaluate(data, 256);
        ConfusionMatrix inThrees = c.evaluate(data, 3);
        for (int t = 0; t < 3; t++) {
          for (int p = 0; p < 3; p++) {
            assertEquals(whole.count(t, p), inThrees.count(t, p), "true " + t + ", predicted " + p);
          }
        }
        java.util.List<String> names = java.util.List.of("a", "b", "c");
        assertEquals(whole.toProto(names).getLoss(), inThrees.toProto(names).getLoss(), 1e-5);
      }
    }
  }
}
