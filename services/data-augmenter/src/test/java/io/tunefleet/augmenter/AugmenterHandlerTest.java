package io.tunefleet.augmenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.FieldError;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-augmenter's decisions without a broker: what it publishes when it accepts or rejects a request, how
 * verdicts pace the epochs and start distillation, and that replays change nothing. Real Fashion-MNIST files, three
 * classes of 20 images (54 training images: 3 batches of 16 per epoch).
 */
class AugmenterHandlerTest {
  private static final int EPOCHS = 4;
  private static final int LEAD = 2;
  private static final int STEPS = 3;
  private static final int TRAIN_IMAGES = 54;

  @TempDir
  Path blobRoot;
  private HandlerTestDriver driver;
  private AugmenterHandler handler;

  @BeforeEach
  void start() {
    driver = new HandlerTestDriver("data-augmenter", blobRoot);
    handler = new AugmenterHandler(driver.context());
  }

  static TrainingRequest request(String job, boolean distill) {
    Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
    return TrainingRequest.newBuilder().setJobId(job).setNumClasses(3)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
            .addAllClasses(List.of(1, 5, 8)).setMaxPerClass(20))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(
            Architecture.newBuilder().setFamily("resnet10").setBaseWidth(8).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(EPOCHS).setBatchSize(16).setLeadEpochs(LEAD))
        .setDistillation(Distillation.newBuilder().setEnabled(distill).setEpochs(3)
            .setStudent(Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4)))
        .build();
  }

  private void submit(TrainingRequest request) throws Exception {
    driver.pipe(handler, driver.topics().requests, request.getJobId(), request);
  }

  private void verdict(AugmenterHandler to, String job, Phase phase, int epoch, Evaluation.Verdict verdict, BlobRef best)
      throws Exception {
    Evaluation.Builder ev = Evaluation.newBuilder().setJobId(job).setPhase(phase).setEpoch(epoch).setVerdict(verdict);
    if (best != null) {
      ev.setBestCheckpoint(best).setTeacher(best);
    }
    driver.pipe(to, driver.topics().evaluations, job, ev.build());
  }

  private List<BatchRef> batches() {
    return driver.published(driver.topics().batches, BatchRef.parser());
  }

  /** The epochs the references belong to, in publishing order, one entry per epoch. */
  private static List<Integer> epochsOf(List<BatchRef> refs) {
    return refs.stream().map(BatchRef::getEpoch).distinct().toList();
  }

  @Test
  void acceptingARequestPublishesTheFirstLeadEpochsInOrderWithTheirBlobs() throws Exception {
    submit(request("acc", true));

    List<JobStatus> statuses = driver.statuses();
    assertEquals(List.of(JobStatus.State.ACCEPTED), statuses.stream().map(JobStatus::getState).toList());
    assertTrue(statuses.get(0).getMessage().contains(TRAIN_IMAGES + " training and 6 validation images"),
        statuses.get(0).getMessage());
    List<BatchRef> refs = batches();
    assertEquals(LEAD * STEPS, refs.size());
    BlobStore blobs = driver.blobs();
    TrainingRequest stored = TrainingRequest.parseFrom(blobs.get(refs.get(0).getRequest()));
    TrainingRequest resolved = RequestResolver.resolve(request("acc", true), new PathPolicy(driver.context().config().dataRoots()));
    assertEquals(RequestResolver.withImageSize(resolved, 28), stored,
        "the resolved request, with the image size its dataset gave it, is what the job runs on");
    for (int e = 0; e < LEAD; e++) {
      int samples = 0;
      for (int s = 0; s < STEPS; s++) {
        BatchRef ref = refs.get(e * STEPS + s);
        assertEquals(Phase.TRAIN, ref.getPhase());
        assertEquals(e, ref.getEpoch(), "epochs in order");
        assertEquals(s, ref.getIndexInEpoch(), "indices contiguous from 0");
        assertEquals(STEPS, ref.getStepsInEpoch());
        assertEquals(EPOCHS, ref.getEpochsPlanned());
        assertFalse(ref.hasTeacher());
        byte[] file = blobs.read(JobPaths.batch("acc", Phase.TRAIN, e, s));
        assertEquals(BlobStore.sha256(file), ref.getBatch().getSha256(), "the reference names the file's content");
        ImageBatch batch = BatchCodec.decode(blobs.get(ref.getBatch()));
        assertEquals(ref.getSamples(), batch.size());
        assertTrue(java.util.Arrays.stream(batch.labels()).allMatch(l -> l >= 0 && l < 3), "labels relabelled 0..2");
        samples += batch.size();
      }
      assertEquals(TRAIN_IMAGES, samples, "each epoch covers the training split once");
    }
    assertEquals(6, BatchCodec.decode(blobs.get(refs.get(0).getValidation())).size());
    assertTrue(driver.history().stream().allMatch(r -> "acc".equals(r.key())), "every record keyed by the job id");
    assertTrue(blobs.exists(JobPaths.accepted("acc")));
  }

  @Test
  void twoAugmentThreadsPublishTheBatchesOfOneInOrder(@TempDir Path other) throws Exception {
    // a photo folder inside the blob roots (a data root): random sizes, random resized crops to 32 px
    Path photos = blobRoot.resolve("photos");
    io.tunefleet.ml.bench.SyntheticPhotos.writeFolder(photos, List.of("a", "b", "c"), 12, 60, 160, 3);
    Path photosCopy = other.resolve("photos");
    io.tunefleet.ml.bench.SyntheticPhotos.writeFolder(photosCopy, List.of("a", "b", "c"), 12, 60, 160, 3);
    List<List<byte[]>> runs = new java.util.ArrayList<>();
    for (int threads : new int[] {1, 2}) {
      Path root = threads == 1 ? blobRoot : other;
      HandlerTestDriver d = new HandlerTestDriver("data-augmenter", root, java.util.Map.of("FLEET_AUGMENT_THREADS", threads));
      AugmenterHandler h = new AugmenterHandler(d.context());
      TrainingRequest base = request("par", false);
      TrainingRequest r = base.toBuilder().setNumClasses(3)
          .setDataset(DatasetSpec.newBuilder().setFormat("image_folder").setImages(root.resolve("photos").toString()))
          .setRecipe(base.getRecipe().toBuilder().setImageSize(32).setBatchSize(8)).build();
      try {
        d.pipe(h, d.topics().requests, "par", r);
      } finally {
        h.close();
      }
      assertEquals(JobStatus.State.ACCEPTED, d.statuses().get(0).getState(), d.statuses().get(0).getMessage());
      List<BatchRef> refs = d.published(d.topics().batches, BatchRef.parser());
      List<byte[]> files = new java.util.ArrayList<>();
      for (int i = 0; i < refs.size(); i++) {
        BatchRef ref = refs.get(i);
        assertEquals(i % ref.getStepsInEpoch(), ref.getIndexInEpoch(), "published in order with " + threads + " threads");
        files.add(d.blobs().get(ref.getBatch()));
      }
      runs.add(files);
    }
    assertEquals(runs.get(0).size(), runs.get(1).size());
    assertTrue(runs.get(0).size() >= LEAD * 3, "batches published: " + runs.get(0).size());
    for (int i = 0; i < runs.get(0).size(); i++) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(runs.get(0).get(i), runs.get(1).get(i), "batch " + i);
    }
  }

  @Test
  void anInvalidRequestIsFailedNamingEveryBadFieldAtOnce() throws Exception {
    TrainingRequest good = request("bad", true);
    TrainingRequest bad = good.toBuilder()
        .setDataset(good.getDataset().toBuilder().setFormat("tfrecord"))
        .setRecipe(good.getRecipe().toBuilder().setLrHead(-0.1).setBatchSize(1))
        .setNumClasses(1).build();

    submit(bad);

    List<JobStatus> statuses = driver.statuses();
    assertEquals(1, statuses.size());
    assertEquals(JobStatus.State.FAILED, statuses.get(0).getState());
    Set<String> fields = statuses.get(0).getErrorsList().stream().map(FieldError::getField).collect(Collectors.toSet());
    assertTrue(fields.containsAll(Set.of("dataset.format", "recipe.lr_head", "recipe.batch_size", "num_classes")),
        fields.toString());
    assertTrue(statuses.get(0).getMessage().contains("recipe.lr_head: must be > 0"), statuses.get(0).getMessage());
    assertEquals(List.of(), batches());
    assertFalse(driver.blobs().exists(JobPaths.accepted("bad")));
  }

  @Test
  void aRecordThatIsNotATrainingRequestIsFailedUnderItsKey() {
    byte[] garbage = "{\"jobId\": \"not protobuf\"}".getBytes(StandardCharsets.UTF_8);

    assertThrows(IllegalArgumentException.class,
        () -> driver.pipeRaw(handler, driver.topics().requests, "junk", garbage), "sent to the dead-letter topic");

    List<JobStatus> statuses = driver.statuses();
    assertEquals(1, statuses.size());
    assertEquals("junk", statuses.get(0).getJobId());
    assertEquals(JobStatus.State.FAILED, statuses.get(0).getState());
    assertEquals("(record)", statuses.get(0).getErrors(0).getField());
  }

  @Test
  void eachContinueVerdictReleasesTheEpochLeadEpochsLaterAndNothingPastThePlan() throws Exception {
    submit(request("pace", true));
    driver.drain();

    verdict(handler, "pace", Phase.TRAIN, 0, Evaluation.Verdict.CONTINUE, null);
    List<BatchRef> released = batches();
    assertEquals(List.of(2), epochsOf(released));
    assertEquals(List.of(0, 1, 2), released.stream().map(BatchRef::getIndexInEpoch).toList());
    driver.drain();

    verdict(handler, "pace", Phase.TRAIN, 1, Evaluation.Verdict.CONTINUE, null);
    assertEquals(List.of(3), epochsOf(batches()));
    driver.drain();

    verdict(handler, "pace", Phase.TRAIN, 2, Evaluation.Verdict.CONTINUE, null);
    assertEquals(List.of(), batches(), "epoch 4 is past the 4 planned epochs");
  }

  @Test
  void aFinalTrainVerdictStartsDistillationWithTheBestCheckpointAsTeacher() throws Exception {
    submit(request("kd", true));
    driver.drain();
    BlobRef best = driver.blobs().put(JobPaths.checkpoint("kd", Phase.TRAIN, 0), new byte[] {1, 2, 3});

    verdict(handler, "kd", Phase.TRAIN, 1, Evaluation.Verdict.STOP_EARLY, best);

    List<BatchRef> distill = batches();
    assertEquals(List.of(0, 1), epochsOf(distill), "the first lead_epochs of the 3 distillation epochs");
    assertEquals(LEAD * STEPS, distill.size());
    for (BatchRef ref : distill) {
      assertEquals(Phase.DISTILL, ref.getPhase());
      assertEquals(best, ref.getTeacher());
      assertEquals(3, ref.getEpochsPlanned());
    }
    driver.drain();

    verdict(handler, "kd", Phase.DISTILL, 0, Evaluation.Verdict.CONTINUE, best);
    List<BatchRef> next = batches();
    assertEquals(List.of(2), epochsOf(next));
    assertTrue(next.stream().allMatch(r -> r.getPhase() == Phase.DISTILL && r.getTeacher().equals(best)));
    driver.drain();

    verdict(handler, "kd", Phase.DISTILL, 1, Evaluation.Verdict.CONTINUE, best);
    assertEquals(List.of(), batches(), "distillation planned 3 epochs");
  }

  @Test
  void withDistillationOffAFinalVerdictPublishesNothingMore() throws Exception {
    submit(request("solo", false));
    driver.drain();
    BlobRef best = driver.blobs().put(JobPaths.checkpoint("solo", Phase.TRAIN, 0), new byte[] {1});

    verdict(handler, "solo", Phase.TRAIN, 1, Evaluation.Verdict.STOP_EARLY, best);

    assertEquals(List.of(), batches());
    assertEquals(List.of(), driver.statuses());
  }

  @Test
  void aReplayedRequestOrVerdictPublishesNothingNew() throws Exception {
    TrainingRequest request = request("replay", true);
    submit(request);
    verdict(handler, "replay", Phase.TRAIN, 0, Evaluation.Verdict.CONTINUE, null);
    driver.drain();

    submit(request);
    verdict(handler, "replay", Phase.TRAIN, 0, Evaluation.Verdict.CONTINUE, null);
    // after a restart the replica knows the job only from the blob store
    AugmenterHandler restarted = new AugmenterHandler(driver.context());
    verdict(restarted, "replay", Phase.TRAIN, 0, Evaluation.Verdict.CONTINUE, null);

    assertEquals(List.of(), batches());
    assertEquals(List.of(), driver.statuses());
  }

  @Test
  void aReplicaThatTakesAJobOverPublishesTheBatchesTheFirstOneWould(@TempDir Path otherRoot) throws Exception {
    // two fleets with their own blob stores accept the same request: batches are a function of the request alone
    HandlerTestDriver other = new HandlerTestDriver("data-augmenter", otherRoot);
    AugmenterHandler first = new AugmenterHandler(other.context());
    TrainingRequest request = request("takeover", true);
    submit(request);
    other.pipe(first, other.topics().requests, "takeover", request);
    assertEquals(contents(batches()), contents(other.published(other.topics().batches, BatchRef.parser())));
    driver.drain();
    other.drain();

    // here a new replica, which never saw the request, takes the job over; there the first replica goes on
    AugmenterHandler successor = new AugmenterHandler(driver.context());
    verdict(successor, "takeover", Phase.TRAIN, 1, Evaluation.Verdict.CONTINUE, null);
    other.pipe(first, other.topics().evaluations, "takeover", Evaluation.newBuilder().setJobId("takeover")
        .setPhase(Phase.TRAIN).setEpoch(1).setVerdict(Evaluation.Verdict.CONTINUE).build());

    List<BatchRef> taken = batches();
    assertEquals(List.of(3), epochsOf(taken));
    assertEquals(contents(other.published(other.topics().batches, BatchRef.parser())), contents(taken));
  }

  /** What a batch reference says apart from where the blob store lives: position and content hashes. */
  private static List<String> contents(List<BatchRef> refs) {
    return refs.stream().map(r -> r.getPhase() + " " + r.getEpoch() + "/" + r.getIndexInEpoch() + "/" + r.getStepsInEpoch()
        + " " + r.getBatch().getSha256() + " " + r.getRequest().getSha256() + " " + r.getValidation().getSha256()).toList();
  }

  @Test
  void aRequestReusingAJobIdWithOtherContentIsRefusedAndTheJobUndisturbed() throws Exception {
    TrainingRequest request = request("taken", true);
    submit(request);
    byte[] accepted = driver.blobs().read(JobPaths.request("taken"));
    driver.drain();
    TrainingRequest other = request.toBuilder().setRecipe(request.getRecipe().toBuilder().setEpochs(9)).build();

    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> submit(other));

    assertTrue(refused.getMessage().contains("already taken by a different request"), refused.getMessage());
    assertEquals(List.of(), batches());
    assertEquals(List.of(), driver.statuses(), "the running job's statuses are not disturbed");
    assertEquals(TrainingRequest.parseFrom(accepted), TrainingRequest.parseFrom(driver.blobs().read(JobPaths.request("taken"))));
  }

  @Test
  void aVerdictForAJobNeverAcceptedIsIgnored() throws Exception {
    verdict(handler, "stranger", Phase.TRAIN, 0, Evaluation.Verdict.CONTINUE, null);

    assertEquals(List.of(), driver.history());
  }
}
