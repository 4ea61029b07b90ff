package io.tunefleet.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The phase-training loop without a broker: batches applied once and in order, offsets held back until the epoch's
 * checkpoint, gaps failing the job, replays and take-overs resuming from the last checkpoint with no step lost or
 * doubled, and the final verdict ending the phase. A ResNet-10 of width 4 on 8x8 images, two steps per epoch.
 */
class PhaseTrainerTest {
  private static final int STEPS = 2;
  private static final int EPOCHS = 3;

  @TempDir
  Path blobRoot;
  private HandlerTestDriver driver;
  private PhaseTrainer trainer;
  private RecordHandler handler;
  private final List<PhaseTrainer> replicas = new ArrayList<>();

  @BeforeEach
  void start() {
    driver = new HandlerTestDriver("trainer", blobRoot);
    trainer = replica(driver);
    handler = routing(driver, trainer);
  }

  @AfterEach
  void stop() {
    replicas.forEach(PhaseTrainer::close);
  }

  private PhaseTrainer replica(HandlerTestDriver on) {
    PhaseTrainer t = new PhaseTrainer(on.context(), Phase.TRAIN);
    replicas.add(t);
    return t;
  }

  /** What the trainer service does with each record: batches and verdicts to its {@link PhaseTrainer}. */
  private static RecordHandler routing(HandlerTestDriver on, PhaseTrainer t) {
    return (record, context) -> {
      if (record.topic().equals(on.topics().batches)) {
        t.onBatch(record, BatchRef.parseFrom(record.value()), context);
      } else {
        t.onEvaluation(Evaluation.parseFrom(record.value()), context);
      }
    };
  }

  /** A job as the augmenter leaves it: the resolved request and the validation split in the blob store. */
  private record Job(String id, BlobRef request, BlobRef validation) {}

  private Job job(String id) throws IOException {
    Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
    TrainingRequest raw = TrainingRequest.newBuilder().setJobId(id).setNumClasses(3)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
            .addAllClasses(List.of(0, 1, 2)))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(
            Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(EPOCHS).setBatchSize(8))
        .setDistillation(Distillation.newBuilder().setEnabled(false))
        .build();
    TrainingRequest request = RequestResolver.resolve(raw, new PathPolicy(driver.context().config().dataRoots()));
    BlobStore blobs = driver.blobs();
    return new Job(id, blobs.put(JobPaths.request(id), request.toByteArray()),
        blobs.put(JobPaths.validation(id), BatchCodec.encode(images(999))));
  }

  /** Eight random 8x8 images, the same for the same seed. */
  private static ImageBatch images(long seed) {
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

  /** Writes batch {@code step} of {@code epoch} (its pixels depend on epoch and step only) and returns its reference. */
  private BatchRef batch(Job job, int epoch, int step) throws IOException {
    BlobRef blob = driver.blobs().put(JobPaths.batch(job.id, Phase.TRAIN, epoch, step),
        BatchCodec.encode(images(100L * epoch + step)));
    return BatchRef.newBuilder().setJobId(job.id).setPhase(Phase.TRAIN).setEpoch(epoch).setIndexInEpoch(step)
        .setStepsInEpoch(STEPS).setEpochsPlanned(EPOCHS).setBatch(blob).setRequest(job.request)
        .setValidation(job.validation).setSamples(8).build();
  }

  private void pipe(HandlerTestDriver on, RecordHandler to, Job job, int epoch, int step) throws Exception {
    on.pipe(to, on.topics().batches, job.id, batch(job, epoch, step));
  }

  private void pipe(Job job, int epoch, int step) throws Exception {
    pipe(driver, handler, job, epoch, step);
  }

  private List<Checkpoint> checkpoints(HandlerTestDriver on) {
    return on.published(on.topics().checkpoints, Checkpoint.parser());
  }

  private static List<JobStatus> withState(List<JobStatus> statuses, JobStatus.State state) {
    return statuses.stream().filter(s -> s.getState() == state).toList();
  }

  @Test
  void stepsAreHeldBackUntilTheirEpochsCheckpointIsAnnounced() throws Exception {
    Job job = job("ordered");

    pipe(job, 0, 0);
    assertEquals(1, driver.deferred("ordered"), "a step outside any checkpoint is not durable");
    assertEquals(List.of(), checkpoints(driver));

    pipe(job, 0, 1);
    List<Checkpoint> first = checkpoints(driver);
    assertEquals(1, first.size());
    assertEquals(0, first.get(0).getEpoch());
    assertEquals(STEPS, first.get(0).getGlobalStep());
    assertEquals(0, driver.deferred("ordered"), "the checkpoint releases the epoch's offsets");
    BlobStore blobs = driver.blobs();
    assertTrue(blobs.get(first.get(0).getCheckpoint()).length > 0, "weights written, hash matching");
    assertEquals(first.get(0), Checkpoint.parseFrom(blobs.read(JobPaths.latestCheckpoint("ordered", Phase.TRAIN))));
    assertFalse(blobs.exists(JobPaths.batch("ordered", Phase.TRAIN, 0, 0)), "consumed batches are freed");
    driver.drain();

    pipe(job, 1, 0);
    pipe(job, 1, 1);
    List<Checkpoint> second = checkpoints(driver);
    assertEquals(List.of(1), second.stream().map(Checkpoint::getEpoch).toList());
    assertEquals(2 * STEPS, second.get(0).getGlobalStep());
    assertEquals(List.of(), withState(driver.statuses(), JobStatus.State.FAILED));
  }

  @Test
  void aDuplicateBatchIsSkipped() throws Exception {
    Job job = job("twice");

    pipe(job, 0, 0);
    pipe(job, 0, 0);
    assertEquals(1, driver.deferred("twice"), "the duplicate is not applied");
    pipe(job, 0, 1);

    List<Checkpoint> done = checkpoints(driver);
    assertEquals(1, done.size());
    assertEquals(STEPS, done.get(0).getGlobalStep(), "two batches, two steps");
    assertEquals(List.of(), withState(driver.statuses(), JobStatus.State.FAILED));
  }

  @Test
  void aGapInTheBatchStreamFailsTheJobNamingTheExpectedAndTheReceivedBatch() throws Exception {
    Job job = job("gap");

    pipe(job, 0, 0);
    pipe(job, 1, 0);

    List<JobStatus> failed = withState(driver.statuses(), JobStatus.State.FAILED);
    assertEquals(1, failed.size());
    assertTrue(failed.get(0).getMessage().contains("expected epoch 0 step 1, got epoch 1 step 0"), failed.get(0).getMessage());
    assertEquals(0, driver.deferred("gap"), "a failed job holds no offsets back");
    driver.drain();

    pipe(job, 0, 1);
    assertEquals(List.of(), checkpoints(driver), "a failed job trains no more");
    assertEquals(List.of(), driver.statuses());
  }

  @Test
  void aCorruptBatchFailsTheJobNamingTheBlob() throws Exception {
    Job job = job("corrupt");
    BatchRef first = batch(job, 0, 0);
    driver.blobs().put(JobPaths.batch("corrupt", Phase.TRAIN, 0, 0), new byte[] {1, 2, 3});

    driver.pipe(handler, driver.topics().batches, "corrupt", first);

    List<JobStatus> failed = withState(driver.statuses(), JobStatus.State.FAILED);
    assertEquals(1, failed.size());
    assertTrue(failed.get(0).getMessage().contains("refusing to train on a corrupt batch"), failed.get(0).getMessage());
    assertTrue(failed.get(0).getMessage().contains(first.getBatch().getUri()), failed.get(0).getMessage());
    assertEquals(List.of(), checkpoints(driver));
    assertEquals(0, driver.deferred("corrupt"));
  }

  @Test
  void aReplayedBatchOfACheckpointedEpochDoesNothing() throws Exception {
    Job job = job("replayed");
    pipe(job, 0, 0);
    BatchRef first = batch(job, 0, 0);
    pipe(job, 0, 1);
    driver.drain();

    // its batch file is gone with the checkpoint: reading it would fail the job as corrupt
    driver.pipe(handler, driver.topics().batches, "replayed", first);
    // and so on a replica that never trained the job
    HandlerTestDriver other = new HandlerTestDriver("trainer", blobRoot);
    other.pipe(routing(other, replica(other)), other.topics().batches, "replayed", first);

    assertEquals(List.of(), checkpoints(driver));
    assertEquals(List.of(), driver.statuses());
    assertEquals(List.of(), other.history());
    assertEquals(0, driver.deferred("replayed"));
    assertEquals(0, other.deferred("replayed"));
  }

  @Test
  void anotherReplicaResumesFromTheLastCheckpointWithNoStepLostOrDoubled() throws Exception {
    Job job = job("handover");
    pipe(job, 0, 0);
    pipe(job, 0, 1);
    pipe(job, 1, 0); // applied, not yet in a checkpoint: its offset is held back, so it is delivered again
    assertEquals(1, driver.deferred("handover"));

    // the replica dies; the next owner of the partition replays from the committed offset
    HandlerTestDriver next = new HandlerTestDriver("trainer", blobRoot);
    RecordHandler successor = routing(next, replica(next));
    pipe(next, successor, job, 1, 0);
    pipe(next, successor, job, 1, 1);

    List<JobStatus> active = withState(next.statuses(), JobStatus.State.TRAINING);
    assertTrue(active.get(0).getMessage().contains("resumed on this replica from the checkpoint of epoch 1 (step 2)"),
        active.get(0).getMessage());
    List<Checkpoint> resumed = checkpoints(next);
    assertEquals(1, resumed.size());
    assertEquals(1, resumed.get(0).getEpoch());
    assertEquals(2 * STEPS, resumed.get(0).getGlobalStep(), "the global step continues from the checkpoint");

    // the same batches trained by one replica without interruption give the very same weights
    Job straight = job("straight");
    driver.drain();
    for (int e = 0; e < 2; e++) {
      for (int s = 0; s < STEPS; s++) {
        pipe(straight, e, s);
      }
    }
    Checkpoint uninterrupted = checkpoints(driver).get(1);
    assertEquals(1, uninterrupted.getEpoch());
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> a = ModelFile.decode(driver.blobs().get(uninterrupted.getCheckpoint()), m).weights();
      Map<String, NDArray> b = ModelFile.decode(driver.blobs().get(resumed.get(0).getCheckpoint()), m).weights();
      assertEquals(a.keySet(), b.keySet());
      for (String name : a.keySet()) {
        assertArrayEquals(a.get(name).toFloatArray(), b.get(name).toFloatArray(), 0f, name + " differs after the handover");
      }
    }
  }

  @Test
  void aFinalVerdictEndsThePhaseAndLaterBatchesAreIgnored() throws Exception {
    Job job = job("stopped");
    pipe(job, 0, 0);
    pipe(job, 0, 1);
    driver.drain();
    // the augmenter runs ahead: epoch 1 is being trained when the verdict on epoch 0 arrives
    pipe(job, 1, 0);

    driver.pipe(handler, driver.topics().evaluations, "stopped", Evaluation.newBuilder().setJobId("stopped")
        .setPhase(Phase.TRAIN).setEpoch(0).setVerdict(Evaluation.Verdict.STOP_EARLY).build());
    assertEquals(0, driver.deferred("stopped"), "the stopped epoch's steps are not worth replaying");
    driver.drain();
    pipe(job, 1, 1);

    assertEquals(List.of(), checkpoints(driver));
    assertEquals(List.of(), driver.statuses());
    assertEquals(0, driver.deferred("stopped"));
  }

  @Test
  void aContinueVerdictOrOneOfAnotherPhaseLeavesTheJobTraining() throws Exception {
    Job job = job("going");
    pipe(job, 0, 0);
    pipe(job, 0, 1);
    for (Evaluation ev : List.of(
        Evaluation.newBuilder().setJobId("going").setPhase(Phase.TRAIN).setEpoch(0).setVerdict(Evaluation.Verdict.CONTINUE).build(),
        Evaluation.newBuilder().setJobId("going").setPhase(Phase.DISTILL).setEpoch(0).setVerdict(Evaluation.Verdict.COMPLETE).build())) {
      driver.pipe(handler, driver.topics().evaluations, "going", ev);
    }
    driver.drain();

    pipe(job, 1, 0);
    pipe(job, 1, 1);

    assertEquals(List.of(1), checkpoints(driver).stream().map(Checkpoint::getEpoch).toList());
  }
}
