package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.ModelManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainingSessionTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  static final Architecture TINY = Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")
      .setNumClasses(3).build();

  static ImageBatch batch(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<ImageU8> imgs = new ArrayList<>();
    int[] labels = new int[8];
    for (int i = 0; i < 8; i++) {
      byte[] px = new byte[8 * 8 * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      imgs.add(new ImageU8(8, 8, 3, px));
      labels[i] = i % 3;
    }
    return ImageBatch.of(imgs, labels, new int[8]);
  }

  static TrainingSession.Config config(UnfreezeSchedule schedule) {
    return new TrainingSession.Config(0.1f, 0.01f, 0.9f, 1e-3f, new LabelSmoothingLoss(0.1f), schedule, 4);
  }

  static Map<String, float[]> snapshot(TrainingSession s) {
    Map<String, float[]> w = new HashMap<>();
    s.parameters().forEach((name, p) -> w.put(name, p.getArray().toFloatArray()));
    return w;
  }

  @Test
  void frozenStagesGetNoUpdateWhileTheHeadAndUnfrozenStagesDo() {
    UnfreezeSchedule schedule = new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 1, 1);
    try (TrainingSession s = TrainingSession.create(TINY, 8, config(schedule), Device.cpu())) {
      s.beginEpoch(0); // head only
      Map<String, float[]> before = snapshot(s);
      s.step(batch(1));
      Map<String, float[]> after = snapshot(s);
      for (Map.Entry<String, Parameter> e : s.parameters().entrySet()) {
        String n = e.getKey();
        boolean changed = !java.util.Arrays.equals(before.get(n), after.get(n));
        if (n.startsWith("fc.")) {
          assertTrue(changed, n + " (head) must train");
        } else if (!ParameterNames.isRunningStat(e.getValue())) {
          assertFalse(changed, n + " is frozen and must not change");
        }
      }
      s.beginEpoch(1); // + layer4
      before = snapshot(s);
      s.step(batch(2));
      after = snapshot(s);
      assertFalse(java.util.Arrays.equals(before.get("layer4.0.conv1.weight"), after.get("layer4.0.conv1.weight")));
      assertArrayEquals(before.get("layer3.0.conv1.weight"), after.get("layer3.0.conv1.weight"));
      assertArrayEquals(before.get("conv1.weight"), after.get("conv1.weight"));
      assertEquals(1, s.unfreezeStage());
    }
  }

  @Test
  void frozenStagesBatchNormStatisticsAdaptByDefaultAndStayWhenFixed() {
    for (boolean fixed : new boolean[] {false, true}) {
      UnfreezeSchedule schedule = new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 1, 1, 0, 0, fixed);
      try (TrainingSession s = TrainingSession.create(TINY, 8, config(schedule), Device.cpu())) {
        s.beginEpoch(0); // head only: every backbone stage frozen
        Map<String, float[]> before = snapshot(s);
        s.step(batch(1));
        Map<String, float[]> after = snapshot(s);
        for (String stat : List.of("bn1.running_mean", "layer2.0.bn2.running_var", "layer4.0.downsample.1.running_mean")) {
          assertEquals(!fixed, !java.util.Arrays.equals(before.get(stat), after.get(stat)),
              stat + (fixed ? " must stay the base model's" : " must follow the batch"));
        }
        assertFalse(java.util.Arrays.equals(before.get("fc.weight"), after.get("fc.weight")), "the head trains");
        s.beginEpoch(1); // + layer4: its BatchNorm trains again, the still-frozen stages' stays fixed
        before = snapshot(s);
        s.step(batch(2));
        after = snapshot(s);
        assertFalse(java.util.Arrays.equals(before.get("layer4.0.bn1.running_mean"), after.get("layer4.0.bn1.running_mean")));
        assertEquals(!fixed, !java.util.Arrays.equals(before.get("layer3.0.bn1.running_mean"),
            after.get("layer3.0.bn1.running_mean")));
      }
    }
  }

  @Test
  void headAndBackboneUseTheirOwnLearningRatesAndNoDecayOnBatchNorm() {
    try (TrainingSession s = TrainingSession.create(TINY, 8, config(UnfreezeSchedule.everythingTrainable()), Device.cpu())) {
      assertEquals(0.1f, s.groupOf("fc.weight").learningRate());
      assertEquals(0.01f, s.groupOf("layer1.0.conv1.weight").learningRate());
      assertEquals(1e-3f, s.groupOf("layer1.0.conv1.weight").weightDecay());
      assertEquals(0f, s.groupOf("layer1.0.bn1.weight").weightDecay());
      assertEquals(0f, s.groupOf("fc.bias").weightDecay());
      s.beginEpoch(2);
      assertEquals(0.5f, s.optimizer().learningRate(s.groupOf("fc.weight")) / 0.1f, 1e-6); // cosine at half way
    }
  }

  @Test
  void resumingFromACheckpointContinuesExactlyAsAnUninterruptedRun() throws Exception {
    UnfreezeSchedule all = UnfreezeSchedule.everythingTrainable();
    byte[] checkpoint;
    Map<String, float[]> uninterrupted;
    try (TrainingSession a = TrainingSession.create(TINY, 8, config(all), Device.cpu())) {
      a.beginEpoch(0);
      a.step(batch(1));
      a.step(batch(2));
      checkpoint = a.save(ModelManifest.newBuilder().setEpoch(0).build(), true);
      // the next epoch runs at another learning rate (cosine): the momentum buffers are rescaled
      a.beginEpoch(1);
      a.step(batch(3));
      a.step(batch(4));
      uninterrupted = snapshot(a);
      try (TrainingSession b = TrainingSession.create(TINY, 8, config(all), Device.cpu());
          NDManager m = NDManager.newBaseManager()) {
        b.restore(ModelFile.decode(checkpoint, m));
        b.beginEpoch(1);
        b.step(batch(3));
        b.step(batch(4));
        Map<String, float[]> resumed = snapshot(b);
        for (String name : uninterrupted.keySet()) {
          assertArrayEquals(uninterrupted.get(name), resumed.get(name), 0f, name + " differs after resuming");
        }
      }
    }
  }

  @Test
  void theSameSeedGivesTheSameInitialWeightsAndTrainingIsDeterministic() {
    UnfreezeSchedule all = UnfreezeSchedule.everythingTrainable();
    try (TrainingSession a = TrainingSession.create(TINY, 8, config(all), Device.cpu(), 7);
        TrainingSession b = TrainingSession.create(TINY, 8, config(all), Device.cpu(), 7);
        TrainingSession c = TrainingSession.create(TINY, 8, config(all), Device.cpu(), 8)) {
      assertArrayEquals(snapshot(a).get("layer2.0.conv1.weight"), snapshot(b).get("layer2.0.conv1.weight"));
      assertFalse(java.util.Arrays.equals(snapshot(a).get("layer2.0.conv1.weight"), snapshot(c).get("layer2.0.conv1.weight")));
      // Kaiming normal, fan-out: std = sqrt(2 / (out channels * 3 * 3))
      float[] w = snapshot(a).get("layer4.0.conv2.weight");
      double var = 0;
      for (float x : w) {
        var += x * x;
      }
      assertEquals(2.0 / (32 * 9), var / w.length, 0.2 * 2.0 / (32 * 9));
      a.beginEpoch(0);
      b.beginEpoch(0);
      a.step(batch(1));
      b.step(batch(1));
      assertArrayEquals(snapshot(a).get("fc.weight"), snapshot(b).get("fc.weight"));
    }
  }

  @Test
  void learnsASeparableProblem() throws Exception {
    try (TrainingSession s = TrainingSession.create(TINY, 8, config(UnfreezeSchedule.everythingTrainable()), Device.cpu())) {
      // class = which third of the image is bright: trivially learnable
      List<ImageU8> imgs = new ArrayList<>();
      int[] labels = new int[48];
      SplittableRandom rng = new SplittableRandom(3);
      for (int i = 0; i < 48; i++) {
        labels[i] = i % 3;
        byte[] px = new byte[8 * 8 * 3];
        for (int y = 0; y < 8; y++) {
          for (int x = 0; x < 8; x++) {
            int v = x * 3 / 8 == labels[i] ? 200 + rng.nextInt(55) : rng.nextInt(50);
            for (int c = 0; c < 3; c++) {
              px[(y * 8 + x) * 3 + c] = (byte) v;
            }
          }
        }
        imgs.add(new ImageU8(8, 8, 3, px));
      }
      ImageBatch data = ImageBatch.of(imgs, labels, new int[48]);
      // enough steps for BatchNorm's running statistics (used at inference) to settle
      for (int e = 0; e < 12; e++) {
        s.beginEpoch(0);
        for (int i = 0; i < 48; i += 16) {
          s.step(data.slice(i, i + 16));
        }
      }
      try (Classifier c = Classifier.load(s.save(ModelManifest.getDefaultInstance(), false), 8, Device.cpu())) {
        assertTrue(c.evaluate(data, 16).accuracy() > 0.9, "accuracy " + c.evaluate(data, 16).accuracy());
      }
    }
  }

  @Test
  void aBaseModelWithNanOrInfiniteWeightsIsRefusedAndTheErrorNamesTheTensor() throws Exception {
    UnfreezeSchedule schedule = new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 0, 1);
    try (TrainingSession base = TrainingSession.create(TINY, 8, config(schedule), Device.cpu());
        TrainingSession target = TrainingSession.create(TINY, 8, config(schedule), Device.cpu());
        NDManager m = NDManager.newBaseManager()) {
      Map<String, ai.djl.ndarray.NDArray> good = ModelFile.decode(base.save(ModelManifest.getDefaultInstance(), false), m).weights();
      assertTrue(target.initBackboneFrom(good) > 0, "a finite base model loads");

      for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
        Map<String, ai.djl.ndarray.NDArray> weights = new HashMap<>(good);
        float[] values = good.get("layer2.0.conv1.weight").toFloatArray();
        values[3] = bad;
        weights.put("layer2.0.conv1.weight", m.create(values, good.get("layer2.0.conv1.weight").getShape()));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> target.initBackboneFrom(weights));
        assertEquals("base model holds NaN or infinite values in 1 of its tensors: layer2.0.conv1.weight", e.getMessage());
      }
    }
  }
}
