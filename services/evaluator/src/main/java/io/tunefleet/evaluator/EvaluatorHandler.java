package io.tunefleet.evaluator;

import ai.djl.Device;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.InterruptedWork;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.report.Plots;
import io.tunefleet.ml.report.Tsne;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.EarlyStopping;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
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
  private final InterruptedWork attempts;
  private final Device device;
  /** Validation and curriculum splits, shard by shard, through a cache of FLEET_EVAL_CACHE_MB. */
  private final SplitReader splits;
  private final Map<String, Map<String, AtomicReference<Double>>> gauges = new HashMap<>();

  EvaluatorHandler(ServiceContext ctx) {
    this.ctx = ctx;
    this.blobs = ctx.blobs();
    this.attempts = new InterruptedWork(blobs);
    this.device = io.tunefleet.ml.train.Devices.choose(ctx.config().get(io.tunefleet.common.config.FleetConfig.DEVICE));
    this.splits = new SplitReader(blobs, (long) ctx.config().getInt(io.tunefleet.common.config.FleetConfig.EVAL_CACHE_MB) << 20);
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
    String attempt = JobPaths.inFlight(job, String.format(java.util.Locale.ROOT, "evaluate-%s-e%04d",
        c.getPhase().name().toLowerCase(java.util.Locale.ROOT), c.getEpoch()));
    int interrupted = attempts.begin(attempt);
    if (interrupted >= InterruptedWork.MAX) {
      String problem = InterruptedWork.refusal(ctx.service(), interrupted, "scoring " + c.getPhase() + " epoch "
          + c.getEpoch(), "give the evaluator more memory, lower FLEET_EVAL_CACHE_MB or use a smaller validation split");
      ctx.status(job, JobStatus.State.FAILED, problem);
      LOG.warn("{}: {}", job, problem);
      return;
    }
    try {
      evaluate(c, verdictPath, last);
    } finally {
      // not reached when the JVM dies (-XX:+ExitOnOutOfMemoryError, kill -9): the marker then counts the attempt
      attempts.end(attempt);
    }
  }

  /** Scores checkpoint {@code c}, judges it against {@code last} and stores and publishes the verdict. */
  private void evaluate(Checkpoint c, String verdictPath, Evaluation last) throws Exception {
    String job = c.getJobId();
    long start = System.nanoTime();
    TrainingRequest request = TrainingRequest.parseFrom(blobs.get(c.getRequest()));
    List<BlobRef> validation = splits.shards(c.getValidation());
    Metrics metrics;
    io.tunefleet.proto.v1.BlobRef difficulty = null;
    byte[] checkpoint = blobs.get(c.getCheckpoint());
    // curriculum: the loss of every training image under this checkpoint ranks the next epochs' data
    List<BlobRef> trainSplit = c.getPhase() == Phase.TRAIN && c.hasTrainSplit() ? splits.shards(c.getTrainSplit()) : null;
    Scores scores = score(checkpoint, validation, trainSplit);
    metrics = scores.confusion().toProto(classNames(request));
    if (scores.losses() != null) {
      difficulty = blobs.put(JobPaths.evaluationFile(job, c.getPhase(), String.format(java.util.Locale.ROOT,
          "e%04d-difficulty.f32", c.getEpoch())), io.tunefleet.ml.data.DifficultyScores.encode(scores.losses()));
    }
    UnfreezeSchedule unfreeze = c.getPhase() == Phase.TRAIN ? SessionConfigs.unfreeze(request) : null;
    EarlyStopping.Decision decision = new EarlyStopping(request.getRecipe().getEarlyStoppingPatience(), unfreeze)
        .judge(last == null ? null : ruleState(last), c.getEpoch(), c.getEpochsPlanned(), c.getUnfreezeStage(),
            metrics.getMacroF1(), metrics.getLoss());
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

  /**
   * The checkpoint scored on the validation split and, for the curriculum, the training split, one shard at a
   * time: shards are read here, on the consumer thread, and only the libtorch work goes to the torch thread.
   */
  private Scores score(byte[] checkpoint, List<BlobRef> validation, List<BlobRef> trainSplit) throws Exception {
    int side = splits.shard(validation.get(0)).height();
    Classifier model = TorchThread.call(() -> Classifier.load(checkpoint, side, device));
    try {
      ConfusionMatrix cm = null;
      for (BlobRef ref : validation) {
        ImageBatch shard = splits.shard(ref);
        ConfusionMatrix sofar = cm;
        cm = TorchThread.call(() -> sofar == null ? model.evaluate(shard) : model.evaluate(shard, sofar));
      }
      float[] losses = null;
      if (trainSplit != null) {
        List<float[]> parts = new ArrayList<>();
        int n = 0;
        for (BlobRef ref : trainSplit) {
          ImageBatch shard = splits.shard(ref);
          float[] part = TorchThread.call(() -> model.losses(shard));
          parts.add(part);
          n += part.length;
        }
        losses = new float[n];
        int at = 0;
        for (float[] part : parts) {
          System.arraycopy(part, 0, losses, at, part.length);
          at += part.length;
        }
      }
      return new Scores(cm, losses);
    } finally {
      TorchThread.call(() -> {
        model.close();
        return null;
      });
    }
  }

  /** The first {@code n} images of a split (fewer when it is smaller), read shard by shard. */
  private ImageBatch firstImages(List<BlobRef> split, int n) throws IOException {
    List<ImageBatch> parts = new ArrayList<>();
    int have = 0;
    for (BlobRef ref : split) {
      if (have >= n) {
        break;
      }
      ImageBatch shard = splits.shard(ref);
      ImageBatch part = shard.slice(0, Math.min(shard.size(), n - have));
      parts.add(part);
      have += part.size();
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ImageBatch first = parts.get(0);
    int per = first.height() * first.width() * first.channels();
    byte[] pixels = new byte[have * per];
    int[] labels = new int[have];
    int[] index = new int[have];
    int at = 0;
    for (ImageBatch p : parts) {
      System.arraycopy(p.pixels(), 0, pixels, at * per, p.size() * per);
      System.arraycopy(p.labels(), 0, labels, at, p.size());
      System.arraycopy(p.sourceIndex(), 0, index, at, p.size());
      at += p.size();
    }
    return new ImageBatch(have, first.height(), first.width(), first.channels(), labels, index, pixels);
  }

  /** t-SNE of the best checkpoint's penultimate features on (up to 500 images of) the validation split. */
  private io.tunefleet.proto.v1.BlobRef tsne(String job, Phase phase, io.tunefleet.proto.v1.BlobRef best, int bestEpoch,
      List<BlobRef> validation, List<String> names) throws Exception {
    ImageBatch points = firstImages(validation, TSNE_POINTS);
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
      int pass = Classifier.imagesPerPass(points.height(), points.width());
      for (int from = 0; from < points.size(); from += pass) {
        ImageBatch chunk = points.slice(from, Math.min(points.size(), from + pass));
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

  /** What the early-stopping rule remembers, as the last verdict recorded it. */
  private static EarlyStopping.State ruleState(Evaluation ev) {
    UnfreezeSchedule.PlateauState plateau = new UnfreezeSchedule.PlateauState(ev.getUnfreezeStage(),
        ev.getEpochsAtStage(), ev.getPlateauEpochs(), ev.getPlateauReference(), ev.getNextUnfreezeStage());
    return new EarlyStopping.State(ev.getBestMetrics().getMacroF1(), ev.getBestMetrics().getLoss(),
        ev.getEpochsWithoutImprovement(), plateau);
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
