package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.BlobStore;
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
    BlobStore blobs = new BlobStore(blobRoot);
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
