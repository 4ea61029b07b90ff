package io.tunefleet.distiller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelFinished;
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
 * The distiller's decisions without a broker: a teacher's final verdict starts distillation (or, with distillation
 * off, finishes the job), a student is trained on DISTILL batches against the real teacher, the final verdict
 * publishes exactly one {@link ModelFinished}, and a replayed verdict resends the stored event. Asserts the event's
 * core fields only, not which files the export writes. ResNet-10 teacher of width 8, student of width 4, 8x8 images.
 */
class DistillerHandlerTest {
  private static final List<String> CLASSES = List.of("class 0", "class 1", "class 2");

  @TempDir
  Path blobRoot;
  private HandlerTestDriver driver;
  private DistillerHandler handler;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() {
    driver = new HandlerTestDriver("distiller", blobRoot);
    handler = new DistillerHandler(driver.context());
    open.add(handler);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  /** A job whose teacher has trained: its request, validation split and best teacher checkpoint in the blob store. */
  private final class Job {
    final String id;
    final TrainingRequest request;
    final BlobRef requestRef;
    final BlobRef validation;
    final BlobRef teacher;
    final Architecture teacherArchitecture;
    final long teacherParameters;

    Job(String id, boolean distill) throws IOException {
      this.id = id;
      Path fm = HandlerTestDriver.datasets().resolve("fashion-mnist");
      request = RequestResolver.resolve(TrainingRequest.newBuilder().setJobId(id).setNumClasses(3)
          .setDataset(DatasetSpec.newBuilder().setFormat("idx")
              .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
              .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
              .addAllClasses(List.of(0, 1, 2)))
          .setBaseModel(BaseModel.newBuilder().setArchitecture(
              Architecture.newBuilder().setFamily("resnet10").setBaseWidth(8).setStem("small")))
          .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(8))
          .setDistillation(Distillation.newBuilder().setEnabled(distill).setEpochs(1)
              .setStudent(Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4)))
          .build(), new PathPolicy(driver.context().config().dataRoots()));
      BlobStore blobs = driver.blobs();
      requestRef = blobs.put(JobPaths.request(id), request.toByteArray());
      validation = blobs.put(JobPaths.validation(id), BatchCodec.encode(images(12, 7)));
      try (TrainingSession t = TrainingSession.create(request.getBaseModel().getArchitecture(), 8,
          SessionConfigs.teacher(request), Device.cpu(), SessionConfigs.modelSeed(request, Phase.TRAIN))) {
        t.beginEpoch(0);
        t.step(images(8, 1));
        teacher = blobs.put(JobPaths.checkpoint(id, Phase.TRAIN, 0),
            t.save(ModelManifest.newBuilder().setJobId(id).setPhase(Phase.TRAIN).setEpoch(0).build(), true));
        teacherArchitecture = t.net().architecture();
        teacherParameters = t.parameterCount();
      }
    }

    /** The evaluator's final verdict on the teacher: best epoch 0, 90 % accuracy. */
    Evaluation teacherVerdict(Evaluation.Verdict verdict) {
      return Evaluation.newBuilder().setJobId(id).setPhase(Phase.TRAIN).setEpoch(1).setVerdict(verdict)
          .setRequest(requestRef).setValidation(validation).setEpochsPlanned(2).setBestEpoch(0)
          .setBestCheckpoint(teacher).setBestMetrics(metrics(9)).setMetrics(metrics(8))
          .setArchitecture(teacherArchitecture).setParameterCount(teacherParameters).build();
    }

    /** DISTILL batch {@code step} of epoch 0, as the augmenter publishes it after the teacher's final verdict. */
    BatchRef distillBatch(int step, int steps) throws IOException {
      BlobRef blob = driver.blobs().put(JobPaths.batch(id, Phase.DISTILL, 0, step),
          BatchCodec.encode(images(8, 10 + step)));
      return BatchRef.newBuilder().setJobId(id).setPhase(Phase.DISTILL).setEpoch(0).setIndexInEpoch(step)
          .setStepsInEpoch(steps).setEpochsPlanned(1).setBatch(blob).setRequest(requestRef).setValidation(validation)
          .setTeacher(teacher).setSamples(8).build();
    }

    /** The evaluator's final verdict on the student of {@code checkpoint}: 80 % accuracy, the teacher's 90 %. */
    Evaluation studentVerdict(Checkpoint student) {
      return Evaluation.newBuilder().setJobId(id).setPhase(Phase.DISTILL).setEpoch(0)
          .setVerdict(Evaluation.Verdict.COMPLETE).setCheckpoint(student.getCheckpoint()).setRequest(requestRef)
          .setValidation(validation).setEpochsPlanned(1).setBestEpoch(0).setBestCheckpoint(student.getCheckpoint())
          .setBestMetrics(metrics(8)).setMetrics(metrics(8)).setArchitecture(student.getArchitecture())
          .setParameterCount(student.getParameterCount()).setTeacher(teacher).setTeacherMetrics(metrics(9))
          .setTeacherArchitecture(teacherArchitecture).setTeacherParameterCount(teacherParameters).setTeacherEpoch(0)
          .build();
    }
  }

  /** Metrics of ten validation images of which {@code correct} are classified right. */
  private static Metrics metrics(int correct) {
    ConfusionMatrix m = new ConfusionMatrix(3);
    for (int i = 0; i < 10; i++) {
      m.add(i % 3, i < correct ? i % 3 : (i + 1) % 3);
    }
    return m.toProto(CLASSES);
  }

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

  private void pipeVerdict(DistillerHandler to, Evaluation ev) throws Exception {
    driver.pipe(to, driver.topics().evaluations, ev.getJobId(), ev);
  }

  private List<ModelFinished> models() {
    return driver.published(driver.topics().models, ModelFinished.parser());
  }

  private static List<JobStatus.State> states(List<JobStatus> statuses) {
    return statuses.stream().map(JobStatus::getState).distinct().toList();
  }

  /** Trains the student for its one epoch of two steps and returns its checkpoint, as the distiller announced it. */
  private Checkpoint distil(Job job) throws Exception {
    for (int s = 0; s < 2; s++) {
      driver.pipe(handler, driver.topics().batches, job.id, job.distillBatch(s, 2));
    }
    List<Checkpoint> students = driver.published(driver.topics().checkpoints, Checkpoint.parser());
    assertEquals(1, students.size(), "one student checkpoint for the epoch");
    return students.get(0);
  }

  @Test
  void theTeachersFinalVerdictAnnouncesDistillationAndPublishesNoModel() throws Exception {
    Job job = new Job("teacher-done", true);

    pipeVerdict(handler, job.teacherVerdict(Evaluation.Verdict.STOP_EARLY));

    List<JobStatus> statuses = driver.statuses();
    assertEquals(List.of(JobStatus.State.DISTILLING), states(statuses));
    assertTrue(statuses.get(0).getMessage().contains("distilling into"), statuses.get(0).getMessage());
    assertEquals(List.of(), models());
    assertFalse(driver.blobs().exists(JobPaths.finished("teacher-done")));
  }

  @Test
  void theStudentsFinalVerdictPublishesExactlyOneFinishedModel() throws Exception {
    Job job = new Job("kd", true);
    pipeVerdict(handler, job.teacherVerdict(Evaluation.Verdict.COMPLETE));
    Checkpoint student = distil(job);
    assertEquals(job.teacher, student.getTeacher(), "the student learnt from the best teacher");
    assertEquals(List.of(), models());
    driver.drain();

    pipeVerdict(handler, job.studentVerdict(student));

    List<ModelFinished> done = models();
    assertEquals(1, done.size());
    ModelFinished event = done.get(0);
    assertEquals("kd", event.getJobId());
    FinishedModel teacher = event.getTeacher();
    FinishedModel studentModel = event.getStudent();
    assertEquals(job.teacherParameters, teacher.getParameterCount());
    assertEquals(student.getParameterCount(), studentModel.getParameterCount());
    assertTrue(studentModel.getParameterCount() < teacher.getParameterCount());
    assertEquals((double) teacher.getParameterCount() / studentModel.getParameterCount(), event.getCompressionRatio(), 1e-9);
    assertEquals(0.9, teacher.getAccuracy(), 1e-9);
    assertEquals(0.8, studentModel.getAccuracy(), 1e-9);
    assertEquals(0.8 / 0.9, event.getAccuracyRetention(), 1e-9);
    assertEquals(job.requestRef, event.getLineage().getRequest());
    assertTrue(driver.blobs().get(event.getReport()).length > 0, "the job report is written");
    assertModelFile(teacher, job.teacherArchitecture);
    assertModelFile(studentModel, student.getArchitecture());
    List<JobStatus> statuses = driver.statuses();
    assertEquals(List.of(JobStatus.State.FINISHED), states(statuses));
    assertEquals(1, statuses.size());
  }

  /** The model's file is in the blob store, matches its reference and holds the architecture the event names. */
  private void assertModelFile(FinishedModel model, Architecture architecture) throws IOException {
    assertEquals(architecture, model.getArchitecture());
    try (NDManager m = NDManager.newBaseManager()) {
      ModelFile.Contents file = ModelFile.decode(driver.blobs().get(model.getModel()), m);
      assertEquals(architecture, file.manifest().getArchitecture());
      assertFalse(file.weights().isEmpty());
    }
  }

  @Test
  void aReplayedFinalVerdictResendsTheIdenticalStoredEvent() throws Exception {
    Job job = new Job("replayed", true);
    pipeVerdict(handler, job.teacherVerdict(Evaluation.Verdict.COMPLETE));
    Evaluation last = job.studentVerdict(distil(job));
    pipeVerdict(handler, last);
    ModelFinished first = models().get(0);
    driver.drain();

    pipeVerdict(handler, last);
    // and on a replica that never saw the job
    DistillerHandler other = new DistillerHandler(driver.context());
    open.add(other);
    pipeVerdict(other, last);
    assertEquals(List.of(first, first), models(), "the stored event, unchanged, finished_at included");
    driver.drain();

    // the teacher's final verdict re-announced (an evaluator replay) does not restart the finished job
    pipeVerdict(other, job.teacherVerdict(Evaluation.Verdict.COMPLETE));
    assertTrue(models().stream().allMatch(first::equals));
    assertTrue(driver.statuses().stream().allMatch(s -> s.getState() == JobStatus.State.FINISHED),
        "the job's last status stays FINISHED");
    assertEquals(List.of(), driver.published(driver.topics().checkpoints, Checkpoint.parser()));
  }

  @Test
  void withDistillationOffTheTeachersFinalVerdictFinishesWithTheTeacherAlone() throws Exception {
    Job job = new Job("solo", false);
    pipeVerdict(handler, job.teacherVerdict(Evaluation.Verdict.CONTINUE));
    assertEquals(List.of(), driver.history(), "a CONTINUE verdict is not the distiller's business");

    pipeVerdict(handler, job.teacherVerdict(Evaluation.Verdict.STOP_EARLY));

    List<ModelFinished> done = models();
    assertEquals(1, done.size());
    assertFalse(done.get(0).hasStudent());
    assertEquals(0, done.get(0).getCompressionRatio());
    assertEquals(job.teacherParameters, done.get(0).getTeacher().getParameterCount());
    assertEquals(0.9, done.get(0).getTeacher().getAccuracy(), 1e-9);
    assertModelFile(done.get(0).getTeacher(), job.teacherArchitecture);
    List<JobStatus> statuses = driver.statuses();
    assertEquals(List.of(JobStatus.State.FINISHED), states(statuses));
    assertTrue(statuses.get(0).getMessage().contains("distillation off"), statuses.get(0).getMessage());
  }
}
