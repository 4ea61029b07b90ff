package io.tunefleet.augmenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.testing.ContainerReplica;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An OutOfMemoryError in a container: the image's JVM flags ({@code -XX:+ExitOnOutOfMemoryError}) end the JVM before
 * any handler runs, and the request, never committed, comes back after the restart. Each run here is a child JVM with
 * the Dockerfile's flags and a small heap, handling the same request record as a restarted replica would: the first
 * two die, the third fails the job with a named error and returns, so the replica lives on.
 */
class ContainerOutOfMemoryTest {
  @TempDir Path blobRoot;

  /** The whole Fashion-MNIST training file (60,000 images): far more than a 40 MB heap holds. */
  static TrainingRequest tooLarge() {
    Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
    return TrainingRequest.newBuilder().setJobId("huge").setNumClasses(10)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString()))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(
            Architecture.newBuilder().setFamily("resnet10").setBaseWidth(8).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(16).setLeadEpochs(1))
        .setDistillation(io.tunefleet.proto.v1.Distillation.newBuilder().setEnabled(false))
        .build();
  }

  /** The child: one replica, handed the request record, printing the statuses it published. */
  public static void main(String[] args) throws Exception {
    HandlerTestDriver driver = new HandlerTestDriver("data-augmenter", Path.of(args[0]));
    AugmenterHandler handler = new AugmenterHandler(driver.context());
    driver.pipe(handler, driver.topics().requests, "huge", tooLarge());
    for (JobStatus s : driver.statuses()) {
      System.out.println("STATUS " + s.getState() + " " + s.getMessage());
    }
    handler.close();
  }

  private ContainerReplica.Exit replica() throws Exception {
    return ContainerReplica.run(ContainerOutOfMemoryTest.class, "40m", blobRoot.toString());
  }

  @Test
  void aRequestThatKillsTheReplicaTwiceIsRefusedTheThirdTime() throws Exception {
    String marker = JobPaths.inFlight("huge", "accept");
    for (int attempt = 1; attempt <= io.tunefleet.common.blob.InterruptedWork.MAX; attempt++) {
      ContainerReplica.Exit died = replica();
      assertEquals(3, died.status(), "ExitOnOutOfMemoryError ends the JVM (exit 3), attempt " + attempt + ":\n" + died.output());
      assertTrue(died.output().contains("OutOfMemoryError"), died.output());
      assertEquals(String.valueOf(attempt), Files.readString(blobRoot.resolve(marker)).trim(), "the attempt is on record");
    }
    ContainerReplica.Exit refused = replica();
    assertEquals(0, refused.status(), refused.output());
    assertTrue(refused.output().contains("STATUS FAILED"), refused.output());
    assertTrue(refused.output().contains("dataset: the data-augmenter stopped 2 times while accepting this request"),
        refused.output());
    assertTrue(!Files.exists(blobRoot.resolve(marker)), "the refusal ends the work: a resubmission tries afresh");
    assertTrue(!Files.exists(blobRoot.resolve(JobPaths.accepted("huge"))));
  }
}
