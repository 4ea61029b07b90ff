package io.tunefleet.evaluator;

import ai.djl.Device;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.report.Plots;
import io.tunefleet.ml.report.Tsne;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.EarlyStopping;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores each checkpoint on the job's validation split and decides: continue, stop early (macro-F1
 * has not improved for {@code early_stopping_patience} epochs) or complete. The verdict is written to
 * the blob store before it is published, so a replayed checkpoint gets the very same verdict.
 *
 * <p>Only the libtorch work (scoring, features for the t-SNE) runs on the {@link TorchThread}; blob reads,
 * metrics, plots, the t-SNE itself and the events run on the consumer thread, so in a JVM shared with a
 * trainer they do not hold its steps up.
 */
final class EvaluatorHandler implements RecordHandler {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluatorHandler.class);

  private static final Plots PLOTS = new Plots(720, 600);
  private static final int TSNE_POINTS = 500;

  private final ServiceContext ctx;
  private final BlobStore blobs;
  private final Device device;
  private final Map<String, ImageBatch> validationCache = new HashMap<>();
  private final Map<String, Map<String, AtomicReference<Double>>> gauges = new HashMap<>();

  EvaluatorHandler(ServiceContext ctx) {
    this.ctx = ctx;
    this.blobs = ctx.blobs();
    this.device = io.tunefleet.ml.train.Devices.choose(ctx.config().get(io.tunefleet.common.config.FleetConfig.DEVICE));
  }

  @Override
  public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
    Checkpoint c = Checkpoint.parseFrom(record.value());
    String job = c.getJobId();
    String verdictPath = JobPaths.evaluation(job, c.getPhase(), c.getEpoch());
    if (blobs.exists(verdictPath)) {
      Evaluation stored = Evaluation.parseFrom(blobs.read(verdictPath));
      ctx.producer().sendAndWait(ctx.topics().evaluations, job, stored);
      advanceLast(stored);
      LOG.info("{}: {} epoch {} re-announced (replay)", job, c.getPhase(), c.getEpoch());
      return;
    }
    Evaluation last = last(job, c.getPhase());
    if (last != null && (last.getVerdict() != Evaluation.Verdict.CONTINUE || c.getEpoch() <= last.getEpoch())) {
      LOG.info("{}: {} epoch {} ignored: the phase already ended at epoch {}", job, c.getPhase(), c.getEpoch(), last.getEpoch());
      return;
    }
    long start = System.nanoTime();
    TrainingRequest request = TrainingRequest.parseFrom(blobs.get(c.getRequest()));
    ImageBatch validation = validation(c);
    Metrics metrics;
    io.tunefleet.proto.v1.BlobRef difficulty = null;
    byte[] checkpoint = blobs.get(c.getCheckpoint());
    // curriculum: the loss of every training image under this checkpoint ranks the next epochs' data
    ImageBatch trainSplit = c.getPhase() == Phase.TRAIN && c.hasTrainSplit() ? BatchCodec.decode(blobs.get(c.getTrainSplit())) : null;
    Scores scores = TorchThread.call(() -> score(checkpoint, validation, trainSplit));
    metrics = scores.confusion().toProto(classNames(request));
    if (scores.losses() != null) {
      difficulty = blobs.put(JobPaths.evaluationFile(job, c.getPhase(), String.format(java.util.Locale.ROOT,
          "e%04d-difficulty.f32", c.getEpoch())), io.tunefleet.ml.data.DifficultyScores.encode(scores.losses()));
    }
    UnfreezeSchedule unfreeze = c.getPhase() == Phase.TRAIN ? SessionConfigs.unfreeze(request) : null;
    EarlyStopping.Decision decision = new EarlyStopping(request.getRecipe().getEarlyStoppingPatience(), unfreeze)
        .judge(last == null ? null : ruleState(last), c.getEpoch(), c.getEpochsPlanned(), c.getUnfreezeStage(),
            metrics.getMacroF1());
    boolean improved = decision.improved();
    int stale = decision.state().epochsWithoutImprovement();
    UnfreezeSchedule.PlateauState plateau = decision.state().plateau();
    Evaluation.Verdict verdict = decision.verdict();
    double seconds = (System.nanoTime() - start) / 1e9;
    Evaluation.Builder e = Evaluation.newBuilder().setJobId(job).setPhase(c.getPhase()).setEpoch(c.getEpoch())
        .setCheckpoint(c.getCheckpoint()).setMetrics(metrics).setVerdict(verdict)
        .setEpochsWithoutImprovement(stale).setRequest(c.getRequest()).setValidation(c.getValidation())
        .setEpochsPlanned(c.getEpochsPlanned()).setEvalSeconds(seconds);
    if (improved) {
      e.setBestEpoch(c.getEpoch()).setBestMetrics(metrics).setBestCheckpoint(c.getCheckpoint())
          .setArchitecture(c.getArchitecture()).setParameterCount(c.getParameterCount());
    } else {
      e.setBestEpoch(last.getBestEpoch()).setBestMetrics(last.getBestMetrics()).setBestCheckpoint(last.getBestCheckpoint())
          .setArchitecture(last.getArchitecture()).setParameterCount(last.getParameterCount());
    }
    if (plateau != null) {
      e.setUnfreezeStage(plateau.epochStage()).setEpochsAtStage(plateau.epochsAtStage())
          .setPlateauEpochs(plateau.plateauEpochs()).setPlateauReference(plateau.reference())
          .setNextUnfreezeStage(plateau.nextStage());
      if (plateau.nextStage() != plateau.epochStage()) {
        LOG.info("{}: macro-F1 plateaued at stage {} ({} epochs without a gain): epoch {} trains at stage {}", job,
            plateau.epochStage(), plateau.plateauEpochs(), c.getEpoch() + request.getRecipe().getLeadEpochs(), plateau.nextStage());
      }
    }
    if (c.getPhase() == Phase.DISTILL) {
      Evaluation teacher = last(job, Phase.TRAIN);
      if (teacher != null) {
        e.setTeacher(teacher.getBestCheckpoint()).setTeacherMetrics(teacher.getBestMetrics())
            .setTeacherArchitecture(teacher.getArchitecture()).setTeacherParameterCount(teacher.getParameterCount())
            .setTeacherEpoch(teacher.getBestEpoch());
      }
    }
    List<String> names = classNames(request);
    e.setConfusionPng(blobs.put(JobPaths.evaluationFile(job, c.getPhase(), String.format(java.util.Locale.ROOT,
        "e%04d-confusion.png", c.getEpoch())), PLOTS.confusionMatrix(metrics.getConfusionList().stream().mapToLong(Long::longValue)
        .toArray(), metrics.getNumClasses(), names, String.format(java.util.Locale.ROOT, "%s %s epoch %d: accuracy %.3f, macro-F1 %.3f",
        job, c.getPhase(), c.getEpoch() + 1, metrics.getAccuracy(), metrics.getMacroF1()))));
    if (difficulty != null) {
      e.setDifficulty(difficulty);
    }
    if (verdict != Evaluation.Verdict.CONTINUE) {
      e.setTsnePng(tsne(job, c.getPhase(), e.getBestCheckpoint(), e.getBestEpoch(), validation, names));
    }
    Evaluation ev = e.build();
    blobs.put(verdictPath, ev.toByteArray());
    ctx.producer().sendAndWait(ctx.topics().evaluations, job, ev);
    blobs.put(JobPaths.lastEvaluation(job, c.getPhase()), ev.toByteArray());
    Timer.builder("fleet.evaluator.evaluation").description("Time to score one checkpoint on the validation split")
        .register(ctx.registry()).record((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
    gauge(job, c.getPhase(), "accuracy", metrics.getAccuracy(), "Validation accuracy of the last checkpoint");
    gauge(job, c.getPhase(), "macro.f1", metrics.getMacroF1(), "Validation macro-F1 of the last checkpoint");
    gauge(job, c.getPhase(), "best.macro.f1", ev.getBestMetrics().getMacroF1(), "Best validation macro-F1 so far");
    gauge(job, c.getPhase(), "epochs.without.improvement", stale, "Early-stopping counter (epochs since the best)");
    LOG.info("{}: {} epoch {}: accuracy {} macro-F1 {} -> {} (best epoch {})", job, c.getPhase(), c.getEpoch(),
        String.format("%.4f", metrics.getAccuracy()), String.format("%.4f", metrics.getMacroF1()), verdict, ev.getBestEpoch());
  }

  /** What libtorch computes for one checkpoint: its confusion on the validation split, its loss per training image. */
  private record Scores(ConfusionMatrix confusion, float[] losses) {}

  /** On the torch thread: the checkpoint scored on the validation split and, for the curriculum, the training split. */
  private Scores score(byte[] checkpoint, ImageBatch validation, ImageBatch trainSplit) throws IOException {
    try (Classifier model = Classifier.load(checkpoint, validation.height(), device)) {
      return new Scores(model.evaluate(validation, 256), trainSplit == null ? null : model.losses(trainSplit, 256));
    }
  }

  /** t-SNE of the best checkpoint's penultimate features on (up to 500 images of) the validation split. */
  private io.tunefleet.proto.v1.BlobRef tsne(String job, Phase phase, io.tunefleet.proto.v1.BlobRef best, int bestEpoch,
      ImageBatch validation, List<String> names) throws Exception {
    ImageBatch points = validation.slice(0, Math.min(validation.size(), TSNE_POINTS));
    byte[] checkpoint = blobs.get(best);
    double[][] features = TorchThread.call(() -> features(checkpoint, points));
    double[][] xy = Tsne.builder().optIterations(750).optSeed(42).build().embed(features);
    byte[] png = PLOTS.scatter(xy, points.labels(), names, String.format(java.util.Locale.ROOT,
        "%s %s: t-SNE of penultimate features, best epoch %d", job, phase, bestEpoch + 1));
    return blobs.put(JobPaths.evaluationFile(job, phase, "tsne.png"), png);
  }

  /** On the torch thread: the checkpoint's penultimate features of {@code points}, one row per image. */
  private double[][] features(byte[] checkpoint, ImageBatch points) throws IOException {
    double[][] features = new double[points.size()][];
    try (Classifier model = Classifier.load(checkpoint, points.height(), device)) {
      for (int from = 0; from < points.size(); from += 256) {
        ImageBatch chunk = points.slice(from, Math.min(points.size(), from + 256));
        try (ai.djl.ndarray.NDManager scope = model.manager().newSubManager()) {
          ai.djl.ndarray.NDArray f = model.features(scope, chunk);
          int dims = (int) f.getShape().get(1);
          float[] flat = f.toFloatArray();
          for (int i = 0; i < chunk.size(); i++) {
            double[] row = new double[dims];
            for (int d = 0; d < dims; d++) {
              row[d] = flat[i * dims + d];
            }
            features[from + i] = row;
          }
        }
      }
    }
    return features;
  }

  private void gauge(String job, Phase phase, String name, double value, String description) {
    Map<String, AtomicReference<Double>> forJob = gauges.computeIfAbsent(job + "/" + phase, k -> new HashMap<>());
    forJob.computeIfAbsent(name, n -> {
      AtomicReference<Double> ref = new AtomicReference<>(value);
      Gauge.builder("fleet.evaluator.validation." + n, ref, AtomicReference::get).description(description)
          .tags(Tags.of("job_id", job, "phase", phase.name().toLowerCase(java.util.Locale.ROOT))).register(ctx.registry());
      return ref;
    }).set(value);
  }

  private ImageBatch validation(Checkpoint c) throws IOException {
    ImageBatch cached = validationCache.get(c.getValidation().getSha256());
    if (cached == null) {
      cached = BatchCodec.decode(blobs.get(c.getValidation()));
      if (validationCache.size() > 8) {
        validationCache.clear();
      }
      validationCache.put(c.getValidation().getSha256(), cached);
    }
    return cached;
  }

  /** What the early-stopping rule remembers, as the last verdict recorded it. */
  private static EarlyStopping.State ruleState(Evaluation ev) {
    UnfreezeSchedule.PlateauState plateau = new UnfreezeSchedule.PlateauState(ev.getUnfreezeStage(),
        ev.getEpochsAtStage(), ev.getPlateauEpochs(), ev.getPlateauReference(), ev.getNextUnfreezeStage());
    return new EarlyStopping.State(ev.getBestMetrics().getMacroF1(), ev.getEpochsWithoutImprovement(), plateau);
  }

  private Evaluation last(String job, Phase phase) throws IOException {
    String path = JobPaths.lastEvaluation(job, phase);
    return blobs.exists(path) ? Evaluation.parseFrom(blobs.read(path)) : null;
  }

  /** After a replay, the last verdict may not have been recorded yet: record it. */
  private void advanceLast(Evaluation stored) throws IOException {
    Evaluation last = last(stored.getJobId(), stored.getPhase());
    if (last == null || last.getEpoch() < stored.getEpoch()) {
      blobs.put(JobPaths.lastEvaluation(stored.getJobId(), stored.getPhase()), stored.toByteArray());
    }
  }

  private static List<String> classNames(TrainingRequest request) {
    List<String> names = new ArrayList<>(request.getDataset().getClassNamesList());
    for (int i = names.size(); i < request.getNumClasses(); i++) {
      names.add(request.getDataset().getClassesCount() > i ? "class " + request.getDataset().getClasses(i) : "class " + i);
    }
    return names;
  }
}
