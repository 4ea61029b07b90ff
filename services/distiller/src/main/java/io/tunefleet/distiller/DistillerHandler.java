package io.tunefleet.distiller;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.CheckpointRetention;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.export.ModelCard;
import io.tunefleet.ml.export.EvalTransform;
import io.tunefleet.ml.export.ModelExport;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Artifact;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.training.PhaseTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains students (through a DISTILL {@link PhaseTrainer}) and, on the final verdict of a job's last
 * phase, exports the best teacher and student (the fleet's file, ONNX, safetensors, model card) and publishes
 * {@link ModelFinished}.
 * Publishing is idempotent: the event is stored before it is sent, and a replay resends the stored one.
 */
final class DistillerHandler implements RecordHandler, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DistillerHandler.class);

  private final ServiceContext ctx;
  private final BlobStore blobs;
  private final PhaseTrainer students;
  private final Counter finishedJobs;
  private final DistributionSummary compression;
  private final CheckpointRetention retention;
  private final Map<String, java.util.concurrent.atomic.AtomicLong> storedBytes = new java.util.concurrent.ConcurrentHashMap<>();

  DistillerHandler(ServiceContext ctx) {
    this.ctx = ctx;
    this.blobs = ctx.blobs();
    this.students = new PhaseTrainer(ctx, Phase.DISTILL);
    this.finishedJobs = Counter.builder("fleet.distiller.models.finished").description("Finished-model events published")
        .register(ctx.registry());
    this.compression = DistributionSummary.builder("fleet.distiller.compression.ratio")
        .description("Teacher parameters / student parameters of finished models").register(ctx.registry());
    this.retention = new CheckpointRetention("all".equals(ctx.config().get(FleetConfig.KEEP_CHECKPOINTS)));
  }

  @Override
  public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
    if (record.topic().equals(ctx.topics().batches)) {
      students.onBatch(record, BatchRef.parseFrom(record.value()), context);
      return;
    }
    Evaluation ev = Evaluation.parseFrom(record.value());
    students.onEvaluation(ev, context);
    if (ev.getVerdict() == Evaluation.Verdict.CONTINUE) {
      return;
    }
    if (blobs.exists(JobPaths.finished(ev.getJobId()))) {
      // a replayed verdict of a finished job: resend the stored event (idempotent), announce nothing new
      ctx.producer().sendAndWait(ctx.topics().models, ev.getJobId(),
          presigned(ModelFinished.parseFrom(blobs.read(JobPaths.finished(ev.getJobId())))));
      return;
    }
    TrainingRequest request = TrainingRequest.parseFrom(blobs.get(ev.getRequest()));
    boolean distill = request.getDistillation().getEnabled();
    if (ev.getPhase() == Phase.TRAIN && distill) {
      ctx.status(ev.getJobId(), JobStatus.State.DISTILLING, String.format("teacher done (best epoch %d, accuracy %.4f, "
          + "macro-F1 %.4f); distilling into %s", ev.getBestEpoch() + 1, ev.getBestMetrics().getAccuracy(),
          ev.getBestMetrics().getMacroF1(), ResNets.name(request.getDistillation().getStudent())));
    } else if (ev.getPhase() == Phase.TRAIN || ev.getPhase() == Phase.DISTILL) {
      finish(ev, request);
    }
  }

  private void finish(Evaluation ev, TrainingRequest request) throws IOException {
    String job = ev.getJobId();
    boolean withStudent = ev.getPhase() == Phase.DISTILL;
    Lineage lineage = lineage(ev, request);
    // what the fleet did to every validation image, for the card: resize the shorter side, then centre-crop
    int size = request.getRecipe().getImageSize();
    EvalTransform transform = size > 0 && request.getRecipe().getEvalResizeSize() >= size
        ? EvalTransform.resizeCenterCrop(size, request.getRecipe().getEvalResizeSize())
        : null;
    FinishedModel teacher = withStudent
        ? export(job, "teacher", ev.getTeacher(), ev.getTeacherArchitecture(), ev.getTeacherParameterCount(), ev.getTeacherMetrics(), ev.getTeacherEpoch(), lineage, transform)
        : export(job, "teacher", ev.getBestCheckpoint(), ev.getArchitecture(), ev.getParameterCount(), ev.getBestMetrics(), ev.getBestEpoch(), lineage, transform);
    ModelFinished.Builder done = ModelFinished.newBuilder().setJobId(job).setTeacher(teacher)
        .setFinishedAtMs(System.currentTimeMillis());
    if (withStudent) {
      FinishedModel student = export(job, "student", ev.getBestCheckpoint(), ev.getArchitecture(), ev.getParameterCount(),
          ev.getBestMetrics(), ev.getBestEpoch(), lineage, transform);
      done.setStudent(student)
          .setCompressionRatio((double) teacher.getParameterCount() / student.getParameterCount())
          .setAccuracyRetention(teacher.getAccuracy() == 0 ? 0 : student.getAccuracy() / teacher.getAccuracy());
      compression.record(done.getCompressionRatio());
    }
    done.setLineage(lineage);
    // retention: the models are exported, so each phase keeps only its best and last checkpoint
    retention.apply(blobs, job, Phase.TRAIN, withStudent ? ev.getTeacherEpoch() : ev.getBestEpoch());
    if (withStudent) {
      retention.apply(blobs, job, Phase.DISTILL, ev.getBestEpoch());
    }
    long storedBefore = blobs.usedBytes("jobs/" + job);
    try {
      done.setReport(JobReports.write(blobs, done.build(), String.format(java.util.Locale.ROOT,
          "Stored in the blob store after retention (FLEET_KEEP_CHECKPOINTS=%s): %.1f MB before this report",
          ctx.config().get(FleetConfig.KEEP_CHECKPOINTS), storedBefore / 1e6)));
    } catch (IOException | RuntimeException e) {
      // a report that cannot be drawn must not hold back the models
      LOG.warn("{}: no job report: {}", job, e.toString());
    }
    ModelFinished event = done.build();
    long stored = blobs.usedBytes("jobs/" + job);
    storedBytes.computeIfAbsent(job, j -> {
      java.util.concurrent.atomic.AtomicLong v = new java.util.concurrent.atomic.AtomicLong();
      io.micrometer.core.instrument.Gauge.builder("fleet.distiller.job.stored", v, java.util.concurrent.atomic.AtomicLong::get)
          .baseUnit("bytes").tag("job_id", j).description("Bytes a finished job keeps in the blob store")
          .register(ctx.registry());
      return v;
    }).set(stored);
    // stored without presigned URLs (they expire); each send, a replay's too, presigns afresh
    blobs.put(JobPaths.finished(job), event.toByteArray());
    ctx.producer().sendAndWait(ctx.topics().models, job, presigned(event));
    finishedJobs.increment();
    ctx.status(job, JobStatus.State.FINISHED, String.format(java.util.Locale.ROOT, "%s; the job stores %.1f MB", withStudent
        ? String.format("finished: teacher accuracy %.4f macro-F1 %.4f (%d params); student accuracy %.4f macro-F1 %.4f "
            + "(%d params, %.1fx smaller, %.1f%% of the teacher's accuracy)", teacher.getAccuracy(), teacher.getMacroF1(),
            teacher.getParameterCount(), event.getStudent().getAccuracy(), event.getStudent().getMacroF1(),
            event.getStudent().getParameterCount(), event.getCompressionRatio(), 100 * event.getAccuracyRetention())
        : String.format("finished: model accuracy %.4f macro-F1 %.4f (%d params); distillation off", teacher.getAccuracy(),
            teacher.getMacroF1(), teacher.getParameterCount()), stored / 1e6));
    LOG.info("{}: finished model published", job);
  }

  private Lineage lineage(Evaluation ev, TrainingRequest request) throws IOException {
    String job = ev.getJobId();
    String datasetSha = blobs.exists(JobPaths.datasetSha256(job))
        ? new String(blobs.read(JobPaths.datasetSha256(job)), StandardCharsets.UTF_8) : "";
    String base = io.tunefleet.ml.model.BaseModels.lineage(request.getBaseModel());
    return Lineage.newBuilder().setRequest(ev.getRequest()).setBaseModel(base).setDatasetSha256(datasetSha).build();
  }

  /**
   * The event with a presigned URL on each model file and artifact, when the store makes them (S3,
   * FLEET_PRESIGN_SECONDS > 0).
   */
  private ModelFinished presigned(ModelFinished event) {
    ModelFinished.Builder b = event.toBuilder();
    presign(b.getTeacherBuilder());
    if (event.hasStudent()) {
      presign(b.getStudentBuilder());
    }
    return b.build();
  }

  private void presign(FinishedModel.Builder model) {
    model.setModel(blobs.presigned(model.getModel()));
    for (Artifact.Builder a : model.getArtifactsBuilderList()) {
      a.setFile(blobs.presigned(a.getFile()));
    }
  }

  /**
   * Copies a checkpoint's weights (no optimizer state) into the job's models folder as the fleet's file, and
   * beside it, for serving, model.onnx, model.safetensors and the card model.json (see {@link ModelExport}).
   */
  private FinishedModel export(String job, String name, BlobRef checkpoint, Architecture architecture, long params,
      Metrics metrics, int epoch, Lineage lineage, EvalTransform transform) throws IOException {
    FinishedModel.Builder finished = FinishedModel.newBuilder().setArchitectureName(ResNets.name(architecture))
        .setArchitecture(architecture).setParameterCount(params).setAccuracy(metrics.getAccuracy())
        .setMacroF1(metrics.getMacroF1()).setEpoch(epoch).setMetrics(metrics);
    try (NDManager tmp = NDManager.newBaseManager()) {
      ModelFile.Contents c = ModelFile.decode(blobs.get(checkpoint), tmp);
      ModelManifest manifest = c.manifest().toBuilder().setNote("fleet " + name + " of job " + job).build();
      BlobRef tfm = blobs.put(JobPaths.model(job, name),
          ModelFile.encode(manifest, c.weights(), Map.<String, NDArray>of()));
      finished.setModel(tfm);
      try {
        ModelFile.Contents model = new ModelFile.Contents(manifest, c.weights(), Map.of());
        ModelExport.Context context = new ModelExport.Context(name, classNames(metrics, architecture.getNumClasses()),
            metrics, lineage, params);
        Map<String, ModelCard.FileEntry> others =
            Map.of("tfm", new ModelCard.FileEntry("../" + name + ".model", tfm.getSizeBytes(), tfm.getSha256()));
        ModelExport.Artifacts files = transform == null ? ModelExport.export(model, context, others)
            : ModelExport.export(model, context, transform, others);
        finished.addArtifacts(artifact("onnx", blobs.put(JobPaths.modelArtifact(job, name, ModelExport.ONNX), files.onnx())));
        finished.addArtifacts(artifact("safetensors",
            blobs.put(JobPaths.modelArtifact(job, name, ModelExport.SAFETENSORS), files.safetensors())));
        finished.addArtifacts(artifact("card", blobs.put(JobPaths.modelArtifact(job, name, ModelExport.CARD), files.card())));
        LOG.info("{}: {} exported as ONNX ({} bytes) and safetensors ({} bytes) in {} ms", job, name, files.onnx().length,
            files.safetensors().length, files.exportNanos() / 1_000_000);
      } catch (IllegalArgumentException e) {
        // a model the serving formats cannot describe (e.g. a file without its input size) is still the job's result
        LOG.warn("{}: {} not exported for serving: {}", job, name, e.getMessage());
        ctx.status(job, JobStatus.State.WARNING, name + " has no ONNX, safetensors or model card: " + e.getMessage());
      }
      finished.addArtifacts(artifact("tfm", tfm));
    }
    return finished.build();
  }

  private static Artifact artifact(String format, BlobRef file) {
    return Artifact.newBuilder().setFormat(format).setFile(file).build();
  }

  /** Class names in label order, as the evaluator reported them ("class N" where it had none). */
  private static List<String> classNames(Metrics metrics, int numClasses) {
    String[] names = new String[numClasses];
    for (int i = 0; i < numClasses; i++) {
      names[i] = "class " + i;
    }
    for (ClassMetrics c : metrics.getPerClassList()) {
      if (c.getLabel() >= 0 && c.getLabel() < numClasses && !c.getName().isEmpty()) {
        names[c.getLabel()] = c.getName();
      }
    }
    return List.of(names);
  }

  @Override
  public void onRevoked(Collection<TopicPartition> partitions) {
    students.onRevoked(partitions);
  }

  @Override
  public void close() {
    students.close();
  }
}
