package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.FolderBlobStore;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.FieldError;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One real job through a real broker and all four services, and bad requests beside it. */
@Tag("integration")
class FleetEndToEndIT {
  static KafkaTestCluster kafka;
  static LocalFleet fleet;
  static FleetClient client;
  @TempDir static Path blobRoot;

  @BeforeAll
  static void start() {
    kafka = KafkaTestCluster.start(3);
    fleet = LocalFleet.start(FleetTestSupport.config(kafka, blobRoot), false);
    client = new FleetClient(fleet.config());
  }

  @AfterAll
  static void stop() {
    client.close();
    fleet.close();
    kafka.close();
  }

  @Test
  void aJobRunsThroughEveryServiceToAVerifiedFinishedModel() throws Exception {
    TrainingRequest request = FleetTestSupport.smallJob("e2e-good", 60);
    client.submit(request);
    JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch("e2e-good", Duration.ofMinutes(5));
    assertTrue(outcome.succeeded(), "job failed: " + outcome.lastStatus());
    ModelFinished done = outcome.finished();
    assertEquals("e2e-good", done.getJobId());
    assertTrue(done.hasStudent());
    assertTrue(done.getCompressionRatio() >= 4.0, "compression " + done.getCompressionRatio());
    assertEquals((double) done.getTeacher().getParameterCount() / done.getStudent().getParameterCount(),
        done.getCompressionRatio(), 1e-9);
    assertTrue(done.getTeacher().getAccuracy() > 0.4, "a 5-class teacher must beat chance: " + done.getTeacher().getAccuracy());
    assertEquals(5, done.getTeacher().getMetrics().getPerClassCount());
    assertEquals(25, done.getTeacher().getMetrics().getConfusionCount());
    FolderBlobStore blobs = new FolderBlobStore(blobRoot);
    for (BlobRef ref : new BlobRef[] {done.getTeacher().getModel(), done.getStudent().getModel(), done.getLineage().getRequest()}) {
      byte[] bytes = Files.readAllBytes(blobs.pathOf(ref.getUri()));
      assertEquals(ref.getSizeBytes(), bytes.length, ref.getUri());
      assertEquals(ref.getSha256(), BlobStore.sha256(bytes), ref.getUri());
    }
    assertFalse(done.getLineage().getDatasetSha256().isEmpty());
    // the finished models load as classifiers and score as reported on the validation split
    TrainingRequest accepted = TrainingRequest.parseFrom(blobs.get(done.getLineage().getRequest()));
    assertEquals(request.getDataset().getMaxPerClass(), accepted.getDataset().getMaxPerClass());
  }

  @Test
  void aJobWithTheFullRecipeLeavesDiagnosticsPlotsAndAReport() throws Exception {
    String json = """
        {"jobId": "e2e-recipe", "numClasses": 5,
         "dataset": {"format": "idx", "images": "%1$s/fashion-mnist/train-images-idx3-ubyte.gz",
                     "labels": "%1$s/fashion-mnist/train-labels-idx1-ubyte.gz", "classes": [1, 3, 5, 7, 9],
                     "classNames": ["Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot"], "maxPerClass": 50},
         "baseModel": {"checkpoint": "%1$s/models/fmnist-even-resnet10-w16.model",
                       "architecture": {"head": {"kind": "MLP", "hidden": 32, "dropout": 0.3}}},
         "recipe": {"epochs": 4, "leadEpochs": 1, "batchSize": 32, "lrHead": 0.05, "lrBackbone": 0.005, "lrStages": {"stem": 0.001},
                    "labelSmoothing": 0.1, "balancedSampling": true, "warmupEpochs": 1, "diagnosticsEvery": 2,
                    "unfreeze": {"plateauPatience": 1, "plateauMinDelta": 1.0, "stagesPerStep": 2},
                    "curriculum": {"enabled": true, "startFraction": 0.5, "stepFraction": 0.25, "everyEpochs": 1},
                    "augmentations": [{"op": "horizontal_flip", "p": 0.5},
                                      {"op": "one_of", "p": 0.3, "children": [{"op": "blur"}, {"op": "median_blur"}]},
                                      {"op": "gauss_noise", "p": 0.2}, {"op": "random_rotate90", "p": 0.2}]},
         "distillation": {"epochs": 1}}
        """.formatted(FleetTestSupport.datasets());
    client.submit(FleetClient.parseRequest(json));
    JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch("e2e-recipe", Duration.ofMinutes(5));
    assertTrue(outcome.succeeded(), "job failed: " + outcome.lastStatus());
    ModelFinished done = outcome.finished();
    assertEquals(io.tunefleet.proto.v1.HeadSpec.Kind.MLP, done.getTeacher().getArchitecture().getHead().getKind());
    FolderBlobStore blobs = new FolderBlobStore(blobRoot);
    String report = new String(blobs.get(done.getReport()), java.nio.charset.StandardCharsets.UTF_8);
    for (String png : new String[] {"loss.png", "accuracy.png", "lr.png", "confusion.png", "tsne.png"}) {
      assertTrue(report.contains("(" + png + ")"), png);
      Path file = blobs.pathOf(done.getReport().getUri()).resolveSibling(png);
      assertTrue(ImageIO.read(file.toFile()).getWidth() > 100, png);
    }
    java.util.List<io.tunefleet.proto.v1.Checkpoint> checkpoints = new java.util.ArrayList<>();
    for (var r : client.readAll("e2e-recipe", java.util.List.of(client.topics().checkpoints))) {
      var c = io.tunefleet.proto.v1.Checkpoint.parseFrom(r.value());
      if (c.getPhase() == io.tunefleet.proto.v1.Phase.TRAIN) {
        checkpoints.add(c);
      }
    }
    // plateau-driven unfreezing: no epoch can beat the reference by more than 1.0, so every verdict from the
    // second on unfreezes two more stages for the epoch after it (lead 1)
    assertEquals(java.util.List.of(0, 0, 2, 4), checkpoints.stream().map(io.tunefleet.proto.v1.Checkpoint::getUnfreezeStage).toList());
    var last = checkpoints.get(3);
    assertTrue(last.getLearningRatesOrThrow("head") > last.getLearningRatesOrThrow("layer4"));
    assertTrue(last.getLearningRatesOrThrow("layer4") > last.getLearningRatesOrThrow("stem"));
    assertEquals(java.util.Set.of("layer1.0", "layer2.0", "layer3.0", "layer4.0"), last.getDiagnostics().getResidualRatioMap().keySet());
    assertTrue(last.getDiagnostics().getMeanAbsGradMap().containsKey("head"));
    assertTrue(last.getDiagnostics().getHeadBackboneRatio() > 0);
    // every verdict points at its confusion matrix, the final one at the t-SNE plot
    var verdicts = client.readAll("e2e-recipe", java.util.List.of(client.topics().evaluations));
    var trainVerdicts = verdicts.stream().map(r -> {
      try {
        return io.tunefleet.proto.v1.Evaluation.parseFrom(r.value());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }).filter(e -> e.getPhase() == io.tunefleet.proto.v1.Phase.TRAIN).toList();
    for (int e = 0; e + 1 < trainVerdicts.size(); e++) {
      // the verdict on epoch e decided the stage that epoch e + 1 trained at
      assertEquals(trainVerdicts.get(e).getNextUnfreezeStage(), checkpoints.get(e + 1).getUnfreezeStage(), "epoch " + (e + 1));
      assertEquals(checkpoints.get(e).getUnfreezeStage(), trainVerdicts.get(e).getUnfreezeStage());
    }
    assertEquals(java.util.List.of(0, 1, 2, 3), trainVerdicts.stream().map(io.tunefleet.proto.v1.Evaluation::getPlateauEpochs).toList());
    var lastTrain = trainVerdicts.get(trainVerdicts.size() - 1);
    assertTrue(blobs.get(lastTrain.getConfusionPng()).length > 0);
    assertTrue(blobs.get(lastTrain.getTsnePng()).length > 0);
    // curriculum: 225 training images, batches of 32; 50%, 75%, then all of them; every batch carries its stage
    java.util.Map<Integer, Integer> steps = new java.util.TreeMap<>();
    for (var r : client.readAll("e2e-recipe", java.util.List.of(client.topics().batches))) {
      var b = io.tunefleet.proto.v1.BatchRef.parseFrom(r.value());
      if (b.getPhase() == io.tunefleet.proto.v1.Phase.TRAIN) {
        steps.put(b.getEpoch(), b.getStepsInEpoch());
        assertEquals(checkpoints.get(b.getEpoch()).getUnfreezeStage(), b.getUnfreezeStage());
      }
    }
    assertEquals(java.util.Map.of(0, 3, 1, 5, 2, 7, 3, 7), steps);
    assertEquals(225 * 4, io.tunefleet.ml.data.DifficultyScores.decode(blobs.get(lastTrain.getDifficulty())).length * 4);
  }

  @Test
  void aBadRequestFailsNamingEveryBadFieldWhileAGoodJobFinishes() throws Exception {
    TrainingRequest bad = TrainingRequest.newBuilder().setJobId("e2e-bad").setNumClasses(1)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages("datasets/no-such-file").setLabels("datasets/nope"))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet7")))
        .setRecipe(Recipe.newBuilder().setLrHead(-0.1))
        .build();
    client.submit(bad);
    client.submit(FleetTestSupport.smallJob("e2e-after-bad", 30));
    JobWatcher.Outcome failed = new JobWatcher(client, System.out).watch("e2e-bad", Duration.ofMinutes(2));
    assertFalse(failed.succeeded());
    JobStatus s = failed.lastStatus();
    assertEquals(JobStatus.State.FAILED, s.getState());
    Set<String> fields = s.getErrorsList().stream().map(FieldError::getField).collect(Collectors.toSet());
    assertTrue(fields.containsAll(Set.of("dataset.images", "dataset.labels", "num_classes",
        "base_model.architecture.family", "recipe.lr_head")), fields.toString());
    JobWatcher.Outcome good = new JobWatcher(client, System.out).watch("e2e-after-bad", Duration.ofMinutes(5));
    assertTrue(good.succeeded(), "the fleet must keep serving other jobs: " + good.lastStatus());
  }

  @Test
  void aDatasetWithAFileThatIsNotAnImageFailsTheJobNamingTheFile() throws Exception {
    Path folder = blobRoot.resolve("uploads/pets");
    Files.createDirectories(folder.resolve("cat"));
    Files.createDirectories(folder.resolve("dog"));
    for (int i = 0; i < 3; i++) {
      ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("cat/" + i + ".png").toFile());
      ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("dog/" + i + ".png").toFile());
    }
    Files.writeString(folder.resolve("dog/readme.png"), "this is text, not a PNG");
    TrainingRequest request = TrainingRequest.newBuilder().setJobId("e2e-not-image").setNumClasses(2)
        .setDataset(DatasetSpec.newBuilder().setFormat("image_folder").setImages(folder.toString()))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")))
        .setDistillation(io.tunefleet.proto.v1.Distillation.newBuilder().setEnabled(false))
        .build();
    client.submit(request);
    JobWatcher.Outcome o = new JobWatcher(client, System.out).watch("e2e-not-image", Duration.ofMinutes(2));
    assertFalse(o.succeeded());
    assertTrue(o.lastStatus().getMessage().contains("readme.png is not a readable image"), o.lastStatus().getMessage());
  }
}
