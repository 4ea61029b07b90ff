package io.tunefleet.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.tunefleet.common.blob.InterruptedWork;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.testing.ContainerReplica;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An OutOfMemoryError while scoring, in a container: each run is a child JVM with the Dockerfile's flags and a heap
 * smaller than the job's validation split, handed the same checkpoint record as a restarted replica would be. The
 * first two die (exit 3), the third fails the job by name and returns, so the replica lives on for other jobs.
 */
class EvaluatorOutOfMemoryTest {
  private static final int SIDE = 32;
  /** 12,000 images of 32x32x3: a 35 MiB split, read and decoded into a 48 MiB heap. */
  private static final int VALIDATION = 12_000;

  @TempDir Path blobRoot;

  /** The child: one evaluator replica, handed the checkpoint record, printing the statuses it published. */
  public static void main(String[] args) throws Exception {
    HandlerTestDriver driver = new HandlerTestDriver("evaluator", Path.of(args[0]));
    Checkpoint c = Checkpoint.parseFrom(Files.readAllBytes(Path.of(args[0], "record.pb")));
    driver.pipe(new EvaluatorHandler(driver.context()), driver.topics().checkpoints, c.getJobId(), c);
    for (JobStatus s : driver.statuses()) {
      System.out.println("STATUS " + s.getState() + " " + s.getMessage());
    }
  }

  /** The job as the augmenter and the trainer leave it, and its first checkpoint's record for the replicas. */
  private Checkpoint job() throws Exception {
    HandlerTestDriver driver = new HandlerTestDriver("evaluator", blobRoot);
    Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
    TrainingRequest request = RequestResolver.resolve(TrainingRequest.newBuilder().setJobId("big-split").setNumClasses(3)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString()).addAllClasses(List.of(0, 1, 2)))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(
            Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(3).setBatchSize(8))
        .setDistillation(Distillation.newBuilder().setEnabled(false))
        .build(), new PathPolicy(driver.context().config().dataRoots()));
    BlobRef requestRef = driver.blobs().put(JobPaths.request("big-split"), request.toByteArray());
    List<ImageU8> images = new ArrayList<>();
    int[] labels = new int[VALIDATION];
    for (int i = 0; i < VALIDATION; i++) {
      byte[] px = new byte[SIDE * SIDE * 3];
      java.util.Arrays.fill(px, (byte) (i * 31));
      images.add(new ImageU8(SIDE, SIDE, 3, px));
      labels[i] = i % 3;
    }
    BlobRef validation = driver.blobs().put(JobPaths.validation("big-split"),
        BatchCodec.encode(ImageBatch.of(images, labels, new int[VALIDATION])));
    try (TrainingSession s = TrainingSession.create(request.getBaseModel().getArchitecture(), SIDE,
        SessionConfigs.teacher(request), Device.cpu(), SessionConfigs.modelSeed(request, Phase.TRAIN))) {
      BlobRef weights = driver.blobs().put(JobPaths.checkpoint("big-split", Phase.TRAIN, 0), s.save(
          ModelManifest.newBuilder().setJobId("big-split").setPhase(Phase.TRAIN).setEpoch(0).build(), true));
      return Checkpoint.newBuilder().setJobId("big-split").setPhase(Phase.TRAIN).setEpoch(0).setGlobalStep(1)
          .setCheckpoint(weights).setRequest(requestRef).setValidation(validation).setEpochsPlanned(3)
          .setArchitecture(s.net().architecture()).setParameterCount(s.parameterCount()).build();
    }
  }

  @Test
  void aCheckpointThatKillsTheReplicaTwiceFailsTheJobTheThirdTime() throws Exception {
    Checkpoint c = job();
    Files.write(blobRoot.resolve("record.pb"), c.toByteArray());
    String marker = JobPaths.inFlight("big-split", "evaluate-train-e0000");
    for (int attempt = 1; attempt <= InterruptedWork.MAX; attempt++) {
      ContainerReplica.Exit died = ContainerReplica.run(EvaluatorOutOfMemoryTest.class, "48m", blobRoot.toString());
      assertEquals(3, died.status(), "ExitOnOutOfMemoryError ends the JVM (exit 3), attempt " + attempt + ":\n"
          + died.output());
      assertTrue(died.output().contains("OutOfMemoryError"), died.output());
      assertEquals(String.valueOf(attempt), Files.readString(blobRoot.resolve(marker)).trim(), "the attempt is on record");
    }
    ContainerReplica.Exit refused = ContainerReplica.run(EvaluatorOutOfMemoryTest.class, "48m", blobRoot.toString());
    assertEquals(0, refused.status(), refused.output());
    assertTrue(refused.output().contains("STATUS FAILED the evaluator stopped 2 times while scoring TRAIN epoch 0"),
        refused.output());
    assertFalse(Files.exists(blobRoot.resolve(marker)), "the refusal ends the work: a resubmission tries afresh");
    assertFalse(Files.exists(blobRoot.resolve(JobPaths.evaluation("big-split", Phase.TRAIN, 0))), "no verdict");
  }
}
