package io.tunefleet.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
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
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluator's verdicts without a broker: each checkpoint (a real ResNet-10 of width 4, 8x8 images) scored on
 * the job's validation split, the verdict stored before it is published and re-announced unchanged on a replay,
 * early stopping and completion, and nothing after the phase's end.
 */
class EvaluatorHandlerTest {
  private static final int VALIDATION = 24;

  @TempDir
  Path blobRoot;
  private HandlerTestDriver driver;
  private EvaluatorHandler handler;
  private final List<TrainingSession> sessions = new ArrayList<>();

  @BeforeEach
  void start() {
    driver = new HandlerTestDriver("evaluator", blobRoot);
    handler = new EvaluatorHandler(driver.context());
  }

  @AfterEach
  void stop() {
    sessions.forEach(TrainingSession::close);
  }

  /** A job as the augmenter and the trainer leave it: its request, validation split and a network in training. */
  private final class Job {
    final String id;
    final TrainingRequest request;
    final BlobRef requestRef;
    final BlobRef validation;
    final TrainingSession session;

    Job(String id, int epochs, int patience) throws IOException {
      this.id = id;
      Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
      request = RequestResolver.resolve(TrainingRequest.newBuilder().setJobId(id).setNumClasses(3)
          .setDataset(DatasetSpec.newBuilder().setFormat("idx")
              .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
              .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
              .addAllClasses(List.of(0, 1, 2)))
          .setBaseModel(BaseModel.newBuilder().setArchitecture(
              Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")))
          .setRecipe(Recipe.newBuilder().setEpochs(epochs).setBatchSize(8).setEarlyStoppingPatience(patience))
          .setDistillation(Distillation.newBuilder().setEnabled(false))
          .build(), new PathPolicy(driver.context().config().dataRoots()));
      BlobStore blobs = driver.blobs();
      requestRef = blobs.put(JobPaths.request(id), request.toByteArray());
      validation = blobs.put(JobPaths.validation(id), BatchCodec.encode(images(VALIDATION, 7)));
      session = TrainingSession.create(request.getBaseModel().getArchitecture(), 8, SessionConfigs.teacher(request),
          Device.cpu(), SessionConfigs.modelSeed(request, Phase.TRAIN));
      sessions.add(session);
    }

    /** One training step on fresh images, so that the next checkpoint scores differently. */
    void train(long seed) {
      session.beginEpoch(0);
      session.step(images(8, seed));
    }

    /** The checkpoint of {@code epoch} with the network's present weights, as the trainer announces it. */
    Checkpoint checkpoint(int epoch) throws IOException {
      BlobRef weights = driver.blobs().put(JobPaths.checkpoint(id, Phase.TRAIN, epoch), session.save(
          ModelManifest.newBuilder().setJobId(id).setPhase(Phase.TRAIN).setEpoch(epoch).build(), true));
      return Checkpoint.newBuilder().setJobId(id).setPhase(Phase.TRAIN).setEpoch(epoch).setGlobalStep(epoch + 1L)
          .setCheckpoint(weights).setRequest(requestRef).setValidation(validation)
          .setEpochsPlanned(request.getRecipe().getEpochs()).setArchitecture(session.net().architecture())
          .setParameterCount(session.parameterCount()).build();
    }
  }

  /** {@code n} random 8x8 images, labels cycling through the three classes. */
  private static ImageBatch images(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<ImageU8> imgs = new ArrayList<>();
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      byte[] px = new byte[8 * 8 * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      imgs.add(new ImageU8(8, 8, 3, px));
      labels[i] = i % 3;
    }
    return ImageBatch.of(imgs, labels, new int[n]);
  }

  private Evaluation judge(EvaluatorHandler by, Checkpoint c) throws Exception {
    driver.drain();
    driver.pipe(by, driver.topics().checkpoints, c.getJobId(), c);
    List<Evaluation> out = driver.published(driver.topics().evaluations, Evaluation.parser());
    assertEquals(1, out.size(), "one verdict per checkpoint");
    return out.get(0);
  }

  @Test
  void aShardedValidationSplitScoresAsOneBlobWithoutACache() throws Exception {
    Job job = new Job("whole", 3, 5);
    Checkpoint c = job.checkpoint(0);
    Evaluation whole = judge(handler, c);
    // the same images as three shards and their list, as the augmenter writes a large photo split
    ImageBatch all = BatchCodec.decode(driver.blobs().get(job.validation));
    List<BlobRef> shards = new ArrayList<>();
    for (int from = 0; from < all.size(); from += 7) {
      shards.add(driver.blobs().put(JobPaths.validation("sharded") + "." + shards.size(),
          BatchCodec.encode(all.slice(from, Math.min(all.size(), from + 7)))));
    }
    BlobRef list = driver.blobs().put(JobPaths.validation("sharded"), io.tunefleet.ml.data.SplitShards.encode(shards));
    HandlerTestDriver uncached = new HandlerTestDriver("evaluator", blobRoot, java.util.Map.of("FLEET_EVAL_CACHE_MB", 0));
    EvaluatorHandler reader = new EvaluatorHandler(uncached.context());
    uncached.pipe(reader, uncached.topics().checkpoints, "sharded", c.toBuilder().setJobId("sharded").setValidation(list).build());
    Evaluation sharded = uncached.published(uncached.topics().evaluations, Evaluation.parser()).get(0);
    assertTrue(shards.size() >= 3, "shards: " + shards.size());
    assertEquals(whole.getMetrics().getConfusionList(), sharded.getMetrics().getConfusionList(), "every image scored once");
    assertEquals(whole.getMetrics().getAccuracy(), sharded.getMetrics().getAccuracy());
    assertEquals(whole.getMetrics().getMacroF1(), sharded.getMetrics().getMacroF1());
  }

  @Test
  void theSplitCacheStaysWithinItsBytes() throws Exception {
    ImageBatch a = images(10, 1);
    ImageBatch b = images(10, 2);
    long one = a.pixels().length + 8L * a.size();
    BlobRef ra = driver.blobs().put("jobs/c/a", BatchCodec.encode(a));
    BlobRef rb = driver.blobs().put("jobs/c/b", BatchCodec.encode(b));
    SplitReader reader = new SplitReader(driver.blobs(), one + one / 2);
    assertEquals(List.of(ra), reader.shards(ra), "a batch blob is a split of one shard");
    assertEquals(one, reader.cachedBytes());
    assertEquals(a.labels().length, reader.shard(rb).size());
    assertEquals(one, reader.cachedBytes(), "b took a's place: two shards do not fit");
    assertTrue(java.util.Arrays.equals(a.pixels(), reader.shard(ra).pixels()), "a read again from the blob store");
  }

  @Test
  void aCheckpointGetsAVerdictThatIsStoredAndPublished() throws Exception {
    Job job = new Job("scored", 3, 5);
    Checkpoint c = job.checkpoint(0);

    Evaluation ev = judge(handler, c);

    assertEquals(Evaluation.Verdict.CONTINUE, ev.getVerdict());
    assertEquals(0, ev.getEpoch());
    assertEquals(3, ev.getMetrics().getNumClasses());
    assertEquals(VALIDATION, ev.getMetrics().getConfusionList().stream().mapToLong(Long::longValue).sum(),
        "every validation image scored once");
    assertEquals(0, ev.getBestEpoch());
    assertEquals(c.getCheckpoint(), ev.getBestCheckpoint());
    BlobStore blobs = driver.blobs();
    assertEquals(ev, Evaluation.parseFrom(blobs.read(JobPaths.evaluation("scored", Phase.TRAIN, 0))));
    assertEquals(ev, Evaluation.parseFrom(blobs.read(JobPaths.lastEvaluation("scored", Phase.TRAIN))));
    assertTrue(blobs.get(ev.getConfusionPng()).length > 0);
    assertFalse(ev.hasTsnePng(), "t-SNE only on final verdicts");
    assertTrue(driver.history().stream().allMatch(r -> "scored".equals(r.key())));
  }

  @Test
  void aReplayedCheckpointGetsTheIdenticalVerdictReannounced() throws Exception {
    Job job = new Job("replayed", 3, 5);
    Checkpoint c = job.checkpoint(0);
    Evaluation first = judge(handler, c);

    assertEquals(first, judge(handler, c));
    // and so by another replica, which never saw the job
    assertEquals(first, judge(new EvaluatorHandler(driver.context()), c));
  }

  @Test
  void withPatienceOneAnEpochThatDoesNotImproveStopsEarlyKeepingTheBest() throws Exception {
    Job job = new Job("patience", 5, 1);
    Checkpoint best = job.checkpoint(0);
    assertEquals(Evaluation.Verdict.CONTINUE, judge(handler, best).getVerdict());

    // the same weights score the same macro-F1: no improvement
    Evaluation stop = judge(handler, job.checkpoint(1));

    assertEquals(Evaluation.Verdict.STOP_EARLY, stop.getVerdict());
    assertEquals(1, stop.getEpochsWithoutImprovement());
    assertEquals(0, stop.getBestEpoch());
    assertEquals(best.getCheckpoint(), stop.getBestCheckpoint());
    assertTrue(driver.blobs().get(stop.getTsnePng()).length > 0, "a final verdict carries the t-SNE plot");
  }

  @Test
  void thePlannedLastEpochCompletesThePhase() throws Exception {
    Job job = new Job("planned", 2, 5);
    assertEquals(Evaluation.Verdict.CONTINUE, judge(handler, job.checkpoint(0)).getVerdict());
    job.train(2);

    Evaluation last = judge(handler, job.checkpoint(1));

    assertEquals(Evaluation.Verdict.COMPLETE, last.getVerdict());
    assertEquals(2, last.getEpochsPlanned());
  }

  @Test
  void aCheckpointAfterThePhaseEndedIsIgnored() throws Exception {
    Job job = new Job("ended", 5, 1);
    judge(handler, job.checkpoint(0));
    assertEquals(Evaluation.Verdict.STOP_EARLY, judge(handler, job.checkpoint(1)).getVerdict());
    driver.drain();

    // a trainer that had run ahead finishes the next epoch after the verdict
    job.train(3);
    driver.pipe(handler, driver.topics().checkpoints, "ended", job.checkpoint(2));

    assertEquals(List.of(), driver.published(driver.topics().evaluations, Evaluation.parser()));
    assertFalse(driver.blobs().exists(JobPaths.evaluation("ended", Phase.TRAIN, 2)));
  }
}
