package io.tunefleet.augmenter;

import com.google.protobuf.InvalidProtocolBufferException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.InterruptedWork;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.InputPipeline;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.CurriculumSchedule;
import io.tunefleet.ml.data.DifficultyScores;
import io.tunefleet.ml.data.DatasetLoader;
import io.tunefleet.ml.data.EpochBatches;
import io.tunefleet.ml.data.EpochSampler;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Samples;
import io.tunefleet.ml.data.SplitShards;
import io.tunefleet.ml.data.StratifiedSplit;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.FieldError;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts training requests (validate, split, publish the first epochs) and paces the rest of the job
 * on the evaluator's verdicts: each evaluated epoch releases the next one, so the augmenter stays at
 * most {@code lead_epochs} ahead of training; a final verdict starts the distillation phase. Every
 * batch is a deterministic function of (request, phase, epoch, index), so a replayed record rewrites
 * identical files and republishes identical references.
 */
final class AugmenterHandler implements RecordHandler, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AugmenterHandler.class);

  private final ServiceContext ctx;
  private final BlobStore blobs;
  private final InterruptedWork attempts;
  private final PathPolicy paths;
  /** The files of s3:// datasets; null when FLEET_DATA_ROOTS names no s3:// prefix. */
  private final S3DatasetFiles objectFiles;
  private final Map<String, Job> jobs = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
      return size() > 8;
    }
  };
  /** Per job: the last epoch published and the last epoch evaluated (the lead gauge's inputs). */
  private final Map<String, int[]> lead = new java.util.concurrent.ConcurrentHashMap<>();
  private final Counter images;
  private final Counter batches;
  private final Timer augmentTime;
  /** Decode, crop and augment the samples of a job's batches (FLEET_AUGMENT_THREADS); daemons, so they never hold the JVM. */
  private final java.util.concurrent.ExecutorService workers;

  /** What the augmenter keeps of an accepted job (rebuilt from the blob store after a restart). */
  private record Job(TrainingRequest request, BlobRef requestRef, BlobRef validationRef, BlobRef trainSplitRef,
      Samples train, int validationSize, Augmentation trainAugmentation, Augmentation distillAugmentation, String dataset) {}

  AugmenterHandler(ServiceContext ctx) {
    this.ctx = ctx;
    this.blobs = ctx.blobs();
    this.attempts = new InterruptedWork(blobs);
    try {
      this.objectFiles = S3DatasetFiles.open(ctx);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e.getMessage(), e); // at start-up: the service does not start
    }
    this.paths = new PathPolicy(ctx.config().dataRoots(),
        ctx.config().objectDataRoots().stream().map(io.tunefleet.common.blob.S3Location::uri).toList());
    this.images = Counter.builder("fleet.augmenter.images").description("Images augmented and written").register(ctx.registry());
    this.batches = Counter.builder("fleet.augmenter.batches").description("Batches written and published").register(ctx.registry());
    this.augmentTime = Timer.builder("fleet.augmenter.augment").description("Time to augment, encode and write one batch")
        .register(ctx.registry());
    int threads = ctx.config().getInt(io.tunefleet.common.config.FleetConfig.AUGMENT_THREADS);
    java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
    this.workers = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "augment-" + made.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    Gauge.builder("fleet.augmenter.threads", () -> threads).description("Threads that decode and augment batches (FLEET_AUGMENT_THREADS)")
        .register(ctx.registry());
    Gauge.builder("fleet.augmenter.blob.disk.used.bytes", blobs, BlobStore::usedBytes)
        .description("Bytes in the blob store").baseUnit("bytes").register(ctx.registry());
  }

  @Override
  public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) throws Exception {
    if (record.topic().equals(ctx.topics().requests)) {
      onRequest(record);
    } else {
      onEvaluation(Evaluation.parseFrom(record.value()));
    }
  }

  private void onRequest(ConsumerRecord<String, byte[]> record) throws IOException {
    String key = record.key() == null ? "" : record.key();
    TrainingRequest raw;
    try {
      raw = TrainingRequest.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      fail(key, List.of(new FieldProblem("(record)", "not a TrainingRequest protobuf: " + e.getMessage())));
      throw new IllegalArgumentException("malformed TrainingRequest: " + e.getMessage());
    }
    String job = raw.getJobId();
    if (!key.isEmpty() && !key.equals(job)) {
      fail(key, List.of(new FieldProblem("job_id", "'" + job + "' differs from the record key '" + key + "'")));
      return;
    }
    TrainingRequest request;
    try {
      request = RequestResolver.resolve(raw, paths);
    } catch (InvalidSpecException e) {
      fail(job.isEmpty() ? key : job, e.problems());
      return;
    }
    if (blobs.exists(JobPaths.accepted(job))) {
      TrainingRequest accepted = TrainingRequest.parseFrom(blobs.read(JobPaths.request(job)));
      // the accepted request carries the sizes chosen from the dataset; the replay may leave them out
      if (!accepted.equals(RequestResolver.withSizesOf(request, accepted))) {
        // never disturb the running job; tell the sender why this request is ignored
        throw new IllegalArgumentException("job id " + job + " is already taken by a different request");
      }
      LOG.info("request for {} replayed; already accepted", job);
      return;
    }
    String attempt = JobPaths.inFlight(job, "accept");
    if (interruptedBefore(attempt, job, "accepting this request")) {
      return;
    }
    try {
      accept(job, request);
    } finally {
      // not reached when the JVM dies (-XX:+ExitOnOutOfMemoryError, kill -9): the marker then counts the attempt
      attempts.end(attempt);
    }
  }

  /**
   * Whether the work {@code attempt} marks was interrupted {@link InterruptedWork#MAX} times already: then the job is
   * failed, naming why, so that its replay cannot stop the replica for every job again. Else the attempt is on
   * record until the work ends.
   */
  private boolean interruptedBefore(String attempt, String job, String doing) throws IOException {
    int interrupted = attempts.begin(attempt);
    if (interrupted < InterruptedWork.MAX) {
      return false;
    }
    fail(job, List.of(new FieldProblem("dataset", InterruptedWork.refusal(ctx.service(), interrupted, doing,
        "use fewer or smaller images, or give the data-augmenter more memory"))));
    return true;
  }

  private void accept(String job, TrainingRequest request) throws IOException {
    Job state;
    try {
      state = prepare(request, true);
      request = state.request;
    } catch (InvalidSpecException e) {
      fail(job, e.problems());
      return;
    } catch (IOException | RuntimeException e) {
      fail(job, List.of(new FieldProblem("dataset", "cannot be read: " + e.getMessage())));
      return;
    } catch (OutOfMemoryError e) {
      // a dataset larger than this replica's heap (a few hundred KB of gzip can declare gigabytes): the failed
      // allocation holds nothing, so the replica can go on. Left alone, the error would stop the consumer loop,
      // and the request, replayed after every restart, would keep the augmenter down for every job.
      fail(job, List.of(new FieldProblem("dataset", "too large to load into the data-augmenter's memory ("
          + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): " + e.getMessage())));
      return;
    }
    String accepted = String.format("accepted: %d training and %d validation images, %d classes, %s; up to %d epochs",
        state.train.size(), state.validationSize, request.getNumClasses(),
        io.tunefleet.ml.model.ResNets.name(request.getBaseModel().getArchitecture()), request.getRecipe().getEpochs())
        + "; " + state.dataset;
    ctx.status(job, JobStatus.State.ACCEPTED, accepted);
    for (int e = 0; e < Math.min(request.getRecipe().getLeadEpochs(), request.getRecipe().getEpochs()); e++) {
      if (!produceEpoch(state, Phase.TRAIN, e, null, null, 0)) {
        return;
      }
    }
    // the marker's text is the acceptance summary: the job report quotes it (input size, files skipped)
    blobs.put(JobPaths.accepted(job), (accepted + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Loads the dataset, splits it and writes the request and validation blobs (idempotent). */
  private Job prepare(TrainingRequest request, boolean writeBlobs) throws IOException {
    String job = request.getJobId();
    DatasetLoader.Loaded loaded = DatasetLoader.load(request.getDataset(), request.getNumClasses(), paths, objectFiles);
    request = RequestResolver.withImageSize(request, loaded.squareSize());
    Samples data = loaded.samples();
    // torchvision's split convention (train/ and val/, a split column) wins over the random split
    StratifiedSplit split = loaded.presetSplit() != null ? loaded.presetSplit() : StratifiedSplit.of(data.labels(),
        data.numClasses(), request.getDataset().getValidationFraction(), request.getRecipe().getSeed());
    int imageSize = request.getRecipe().getImageSize();
    InputPipeline pipeline = new InputPipeline(imageSize, request.getRecipe().getEvalResizeSize(),
        InputPipeline.TrainCrop.fromId(request.getRecipe().getTrainCrop()),
        loaded.squareSize() == imageSize && request.getRecipe().getEvalResizeSize() == imageSize);
    Augmentation ops = AugmentationPipeline.fromSpec(request.getRecipe().getAugmentationsList());
    BlobRef requestRef;
    BlobRef validationRef;
    Samples train = data.subset(split.train());
    try {
      if (writeBlobs) {
        requestRef = blobs.put(JobPaths.request(job), request.toByteArray());
        validationRef = putSplit(JobPaths.validation(job), data.subset(split.validation()), pipeline);
        blobs.put(JobPaths.datasetSha256(job), loaded.sha256().getBytes(StandardCharsets.UTF_8));
      } else {
        requestRef = blobs.refOf(JobPaths.request(job));
        validationRef = blobs.refOf(JobPaths.validation(job));
      }
    } catch (java.io.UncheckedIOException e) {
      throw new InvalidSpecException("dataset.images", e.getCause().getMessage());
    }
    BlobRef trainSplitRef = null;
    if (request.getRecipe().getCurriculum().getEnabled()) {
      // the evaluator scores difficulty on the unaugmented training split
      try {
        trainSplitRef = writeBlobs ? putSplit(JobPaths.trainSplit(job), train, pipeline)
            : blobs.refOf(JobPaths.trainSplit(job));
      } catch (java.io.UncheckedIOException e) {
        throw new InvalidSpecException("dataset.images", e.getCause().getMessage());
      }
    }
    String dataset = String.format("input %dx%d, %s normalisation%s", imageSize, imageSize,
        request.getRecipe().getNormalization(), loaded.squareSize() == imageSize ? "" : ", " + pipeline.describe());
    if (loaded.skipped() > 0) {
      dataset += String.format("; %d unreadable file(s) skipped (%s%s)", loaded.skipped(),
          String.join("; ", loaded.skippedFiles().subList(0, Math.min(3, loaded.skippedFiles().size()))),
          loaded.skipped() > 3 ? "; …" : "");
    }
    Job state = new Job(request, requestRef, validationRef, trainSplitRef, train, split.validation().length,
        pipeline.training(ops), pipeline.evaluationThen(ops), dataset);
    jobs.put(job, state);
    return state;
  }

  /**
   * Writes an unaugmented split (resize + centre crop) at {@code path}: one batch blob when small, else shards of
   * {@link SplitShards#SHARD_BYTES} decoded on the workers, one at a time, and their list, so that neither this
   * replica nor the evaluator ever holds a large split's pixels at once.
   */
  private BlobRef putSplit(String path, Samples samples, InputPipeline pipeline) throws IOException {
    int perShard = SplitShards.imagesPerShard(samples.size(), pipeline.imageSize());
    int[] order = java.util.stream.IntStream.range(0, samples.size()).toArray();
    if (perShard >= samples.size()) {
      ImageBatch all = EpochBatches.unaugmented(samples, order, pipeline, workers).join();
      return blobs.put(path, BatchCodec.encode(all));
    }
    List<BlobRef> shards = new java.util.ArrayList<>();
    for (int from = 0; from < samples.size(); from += perShard) {
      int[] slice = Arrays.copyOfRange(order, from, Math.min(samples.size(), from + perShard));
      ImageBatch shard = EpochBatches.unaugmented(samples, slice, pipeline, workers).join();
      shards.add(blobs.put(String.format(java.util.Locale.ROOT, "%s.%05d", path, shards.size()), BatchCodec.encode(shard)));
    }
    return blobs.put(path, SplitShards.encode(shards));
  }

  private Job job(String jobId) throws IOException {
    Job state = jobs.get(jobId);
    if (state == null) {
      TrainingRequest request = TrainingRequest.parseFrom(blobs.read(JobPaths.request(jobId)));
      state = prepare(request, false);
    }
    return state;
  }

  private void onEvaluation(Evaluation ev) throws IOException {
    String jobId = ev.getJobId();
    if (!blobs.exists(JobPaths.accepted(jobId))) {
      LOG.debug("evaluation for unknown job {}", jobId);
      return;
    }
    Job state = job(jobId);
    TrainingRequest r = state.request;
    leadOf(jobId)[1] = ev.getPhase() == Phase.TRAIN ? ev.getEpoch() : leadOf(jobId)[1];
    boolean lastPhase = ev.getPhase() == Phase.DISTILL || !r.getDistillation().getEnabled();
    if (ev.getVerdict() != Evaluation.Verdict.CONTINUE && lastPhase) {
      ctx.jobStates().forget(jobId);
    }
    if (ev.getPhase() == Phase.TRAIN) {
      if (ev.getVerdict() == Evaluation.Verdict.CONTINUE) {
        int next = ev.getEpoch() + r.getRecipe().getLeadEpochs();
        if (next < r.getRecipe().getEpochs()) {
          produceEpoch(state, Phase.TRAIN, next, null, ev.hasDifficulty() ? ev.getDifficulty() : null,
              ev.getNextUnfreezeStage());
        }
      } else if (r.getDistillation().getEnabled()) {
        for (int e = 0; e < Math.min(r.getRecipe().getLeadEpochs(), r.getDistillation().getEpochs()); e++) {
          produceEpoch(state, Phase.DISTILL, e, ev.getBestCheckpoint(), null, 0);
        }
      }
    } else if (ev.getPhase() == Phase.DISTILL && ev.getVerdict() == Evaluation.Verdict.CONTINUE) {
      int next = ev.getEpoch() + r.getRecipe().getLeadEpochs();
      if (next < r.getDistillation().getEpochs()) {
        produceEpoch(state, Phase.DISTILL, next, ev.getTeacher(), null, 0);
      }
    }
  }

  /**
   * Augments, writes and publishes every batch of one epoch, unless it was already published. With a
   * curriculum (TRAIN phase), the epoch draws from the easiest part of the split by {@code difficulty}.
   * With plateau-driven unfreezing, the batches carry {@code unfreezeStage}, the evaluator's decision.
   */
  private boolean produceEpoch(Job state, Phase phase, int epoch, BlobRef teacher, BlobRef difficulty, int unfreezeStage)
      throws IOException {
    String job = state.request.getJobId();
    String attempt = JobPaths.inFlight(job, String.format(java.util.Locale.ROOT, "%s-e%04d",
        phase.name().toLowerCase(java.util.Locale.ROOT), epoch));
    if (interruptedBefore(attempt, job, "producing " + phase + " epoch " + epoch)) {
      return false;
    }
    try {
      produceEpochBatches(state, phase, epoch, teacher, difficulty, unfreezeStage);
      return true;
    } catch (java.io.UncheckedIOException e) {
      // a photo whose header was sound but whose pixels are not: the job stops, no batch with garbage is published
      fail(state.request.getJobId(), List.of(new FieldProblem("dataset.images", e.getCause().getMessage()
          + (state.request.getDataset().getSkipUnreadable() ? "" : "; remove the file and resubmit"))));
      return false;
    } finally {
      attempts.end(attempt);
    }
  }

  private void produceEpochBatches(Job state, Phase phase, int epoch, BlobRef teacher, BlobRef difficulty,
      int unfreezeStage) throws IOException {
    TrainingRequest r = state.request;
    boolean stamp = phase == Phase.TRAIN && SessionConfigs.unfreeze(r).plateauDriven();
    String job = r.getJobId();
    if (blobs.exists(JobPaths.epochDone(job, phase, epoch))) {
      return;
    }
    long seed = SessionConfigs.dataSeed(r, phase);
    int[] pool = curriculumPool(state, phase, epoch, difficulty, seed);
    int[] poolLabels = new int[pool.length];
    int[] trainLabels = state.train.labels();
    for (int i = 0; i < pool.length; i++) {
      poolLabels[i] = trainLabels[pool[i]];
    }
    int[] order = EpochSampler.order(poolLabels, r.getNumClasses(), epoch, seed, r.getRecipe().getBalancedSampling());
    for (int i = 0; i < order.length; i++) {
      order[i] = pool[order[i]];
    }
    int batchSize = r.getRecipe().getBatchSize();
    int steps = EpochBatches.steps(order.length, batchSize);
    int epochs = phase == Phase.TRAIN ? r.getRecipe().getEpochs() : r.getDistillation().getEpochs();
    Augmentation augmentation = phase == Phase.TRAIN ? state.trainAugmentation : state.distillAugmentation;
    // the workers decode step s+1 while this thread encodes, writes and publishes step s
    EpochBatches.Pending next = EpochBatches.start(state.train, order, 0, batchSize, augmentation, seed, job, epoch, workers);
    for (int s = 0; s < steps; s++) {
      Timer.Sample t = Timer.start();
      EpochBatches.Pending current = next;
      next = s + 1 < steps ? EpochBatches.start(state.train, order, s + 1, batchSize, augmentation, seed, job, epoch, workers)
          : null;
      ImageBatch batch;
      try {
        batch = current.join();
      } catch (RuntimeException | Error e) {
        if (next != null) {
          next.cancel();
        }
        throw e;
      }
      BlobRef ref = blobs.put(JobPaths.batch(job, phase, epoch, s), BatchCodec.encode(batch));
      t.stop(augmentTime);
      BatchRef.Builder b = BatchRef.newBuilder().setJobId(job).setPhase(phase).setEpoch(epoch).setIndexInEpoch(s)
          .setStepsInEpoch(steps).setEpochsPlanned(epochs).setBatch(ref).setRequest(state.requestRef)
          .setValidation(state.validationRef).setSamples(batch.size());
      if (teacher != null) {
        b.setTeacher(teacher);
      }
      if (state.trainSplitRef != null) {
        b.setTrainSplit(state.trainSplitRef);
      }
      if (stamp) {
        b.setUnfreezeStage(unfreezeStage);
      }
      ctx.producer().send(ctx.topics().batches, job, b.build());
      images.increment(batch.size());
      batches.increment();
    }
    ctx.producer().flush();
    if (phase == Phase.TRAIN) {
      leadOf(job)[0] = Math.max(leadOf(job)[0], epoch);
    }
    blobs.put(JobPaths.epochDone(job, phase, epoch), Arrays.toString(new int[] {steps}).getBytes(StandardCharsets.UTF_8));
    LOG.info("{}: {} epoch {} published ({} batches{})", job, phase, epoch, steps, stamp ? ", unfreeze stage " + unfreezeStage : "");
  }

  /** Positions of the training split the epoch draws from: all, or the curriculum's easiest fraction. */
  private int[] curriculumPool(Job state, Phase phase, int epoch, BlobRef difficulty, long seed) throws IOException {
    int n = state.train.size();
    var c = state.request.getRecipe().getCurriculum();
    if (phase != Phase.TRAIN || !c.getEnabled()) {
      return java.util.stream.IntStream.range(0, n).toArray();
    }
    float[] scores = difficulty == null ? null : DifficultyScores.decode(blobs.get(difficulty));
    int[] pool = new CurriculumSchedule(c.getStartFraction(), c.getStepFraction(), c.getEveryEpochs())
        .select(n, epoch, scores, seed + epoch);
    LOG.info("{}: curriculum epoch {}: {} of {} training images ({})", state.request.getJobId(), epoch, pool.length, n,
        scores == null ? "random subset: not scored yet" : "easiest by loss");
    return pool;
  }

  /** {published, evaluated} epochs of a job's TRAIN phase, with its gauge registered on first use. */
  private int[] leadOf(String job) {
    return lead.computeIfAbsent(job, j -> {
      int[] v = {-1, -1};
      Gauge.builder("fleet.augmenter.lead.epochs", v, a -> a[0] - a[1])
          .description("Training epochs published beyond the last evaluated one (bounded by recipe.lead_epochs)")
          .tag("job_id", j).register(ctx.registry());
      return v;
    });
  }

  @Override
  public void close() {
    workers.shutdownNow();
    if (objectFiles != null) {
      objectFiles.close();
    }
  }

  private void fail(String job, List<FieldProblem> problems) {
    JobStatus.Builder s = JobStatus.newBuilder().setJobId(job).setState(JobStatus.State.FAILED)
        .setMessage("request rejected: " + problems.size() + " problem(s): "
            + String.join("; ", problems.stream().map(FieldProblem::toString).toList()));
    for (FieldProblem p : problems) {
      s.addErrors(FieldError.newBuilder().setField(p.field()).setProblem(p.problem()));
    }
    ctx.status(s);
    LOG.info("{}: {}", job, s.getMessage());
  }
}
