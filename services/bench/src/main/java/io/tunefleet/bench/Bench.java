package io.tunefleet.bench;

import ai.djl.Device;
import io.tunefleet.cli.Fleet;
import io.tunefleet.cli.FleetClient;
import io.tunefleet.cli.JobWatcher;
import io.tunefleet.cli.LocalFleet;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.data.DatasetLoader;
import io.tunefleet.ml.data.EpochBatches;
import io.tunefleet.ml.data.EpochSampler;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.data.StratifiedSplit;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.CpuPartition;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * `fleet bench`: training throughput of one job through the whole fleet (broker, augmenter, blob
 * store, trainer, evaluator running beside it) against a bare loop over the same model, data,
 * augmentation and optimizer in one thread, with no Kafka and no files. Both are measured in steady
 * state: the first epochs (model build and, in a fresh JVM, the compilation of the fleet's Java code) are left
 * out.
 */
@Command(name = "bench", description = "Training images/s through the fleet vs a bare DJL loop on the same model and data.")
final class Bench implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--request", description = "The job to measure (default ${DEFAULT-VALUE}); distillation is switched off")
  Path request = Fleet.DEMO_REQUEST;

  @Option(names = "--epochs", description = "Epochs per run, warm-up included (default ${DEFAULT-VALUE})")
  int epochs = 12;

  @Option(names = "--warmup-epochs", description = "Epochs left out of the measurement at the start of each run "
      + "(default ${DEFAULT-VALUE}: a fresh JVM compiles the fleet's Java code for about 25 s)")
  int warmupEpochs = 6;

  @Option(names = "--rounds", description = "Fleet runs, each between two bare runs; medians are reported (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--json", description = "Print one JSON object instead of a table")
  boolean json;

  @Option(names = "--compare-blob-root", description = "Also run each round's fleet on this blob store (e.g. "
      + "s3://bucket/bench, with FLEET_S3_ENDPOINT and credentials set), in alternating order with the configured "
      + "one, and report its images/s and what it adds to each step")
  String compareBlobRoot;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1) {
      throw new ParameterException(spec.commandLine(), "--rounds must be at least 1, was " + rounds);
    }
    if (warmupEpochs < 1 || warmupEpochs >= epochs) {
      throw new ParameterException(spec.commandLine(), "--warmup-epochs must be at least 1 "
          + "and less than --epochs (" + epochs + "), was " + warmupEpochs);
    }
    FleetConfig config = Fleet.config();
    TrainingRequest base = FleetClient.parseRequest(Files.readString(request, StandardCharsets.UTF_8));
    TrainingRequest job = base.toBuilder().setJobId("bench-" + System.currentTimeMillis() / 1000)
        .setRecipe(base.getRecipe().toBuilder().setEpochs(epochs).setEarlyStoppingPatience(1000)
            // the bare loop computes no gradient diagnostics: the same work on both sides
            .setDiagnosticsEvery(0))
        .setDistillation(Distillation.newBuilder().setEnabled(false)).build();
    TrainingRequest resolved = RequestResolver.resolve(job, new PathPolicy(config.dataRoots()));
    // bare, fleet, bare, fleet, ..., bare: each fleet run is compared with the bare runs on either side of it,
    // which on a shared machine moves less than comparing with one bare run at the start
    double[] bare = new double[rounds + 1];
    double[] bareWithValidation = new double[rounds + 1];
    FleetResult[] fleet = new FleetResult[rounds];
    FleetResult[] compared = new FleetResult[rounds];
    FleetConfig comparedConfig = compareBlobRoot == null ? null : config.with(FleetConfig.BLOB_ROOT.key(), compareBlobRoot);
    double[] ratio = new double[rounds];
    double[] ratioWithValidation = new double[rounds];
    long imagesPerEpoch = 0;
    for (int i = 0; i <= rounds; i++) {
      // on the thread the fleet's services use for libtorch, so this JVM never holds a second OpenMP team
      BareResult b = TorchThread.call(() -> bareLoop(resolved, config, warmupEpochs));
      bare[i] = b.imagesPerSecond();
      bareWithValidation[i] = b.withValidationImagesPerSecond();
      imagesPerEpoch = b.imagesPerEpoch();
      System.err.printf(Locale.ROOT, "bench: bare loop %.1f images/s (%.1f with per-epoch validation)%n", bare[i],
          bareWithValidation[i]);
      if (i > 0) {
        ratio[i - 1] = fleet[i - 1].imagesPerSecond() / ((bare[i - 1] + bare[i]) / 2);
        ratioWithValidation[i - 1] = fleet[i - 1].imagesPerSecond() / ((bareWithValidation[i - 1] + bareWithValidation[i]) / 2);
      }
      if (i < rounds) {
        TrainingRequest run = job.toBuilder().setJobId(job.getJobId() + "-" + i).build();
        if (comparedConfig != null && i % 2 == 1) {
          // alternate which store goes first, so that neither always runs on a warmer machine
          compared[i] = throughFleet(run.toBuilder().setJobId(run.getJobId() + "-compared").build(), comparedConfig,
              imagesPerEpoch, warmupEpochs);
        }
        fleet[i] = throughFleet(run, config, imagesPerEpoch, warmupEpochs);
        if (comparedConfig != null && i % 2 == 0) {
          compared[i] = throughFleet(run.toBuilder().setJobId(run.getJobId() + "-compared").build(), comparedConfig,
              imagesPerEpoch, warmupEpochs);
        }
        if (comparedConfig != null) {
          System.err.printf(Locale.ROOT, "bench: fleet on %s %.1f images/s (its steps alone: %.1f)%n", compareBlobRoot,
              compared[i].imagesPerSecond(), compared[i].stepImagesPerSecond());
        }
        System.err.printf(Locale.ROOT, "bench: fleet %.1f images/s (its steps alone: %.1f; %.2f s per evaluation)%n",
            fleet[i].imagesPerSecond(), fleet[i].stepImagesPerSecond(), fleet[i].evaluationSeconds());
        System.err.println("bench: cores used in the fleet's measured epochs: " + fleet[i].cpuCores());
      }
    }
    double[] fleetRates = Arrays.stream(fleet).mapToDouble(FleetResult::imagesPerSecond).toArray();
    double fleetMedian = median(fleetRates);
    double stepsMedian = median(Arrays.stream(fleet).mapToDouble(FleetResult::stepImagesPerSecond).toArray());
    double evaluationMedian = median(Arrays.stream(fleet).mapToDouble(FleetResult::evaluationSeconds).toArray());
    double bareMedian = median(bare);
    double ratioMedian = median(ratio);
    double bareWithValidationMedian = median(bareWithValidation);
    double ratioWithValidationMedian = median(ratioWithValidation);
    if (comparedConfig != null) {
      double comparedMedian = median(Arrays.stream(compared).mapToDouble(FleetResult::imagesPerSecond).toArray());
      int batch = resolved.getRecipe().getBatchSize();
      // per step of `batch` images: the time the other store adds end to end (blob writes, reads, deletes, waits)
      double addedMs = 1000.0 * batch * (1 / comparedMedian - 1 / fleetMedian);
      System.out.printf(Locale.ROOT, "{\"compare_blob_root\":\"%s\",\"blob_root\":\"%s\",\"fleet_images_per_s\":%.1f,"
          + "\"compared_fleet_images_per_s\":%.1f,\"compared_fleet_runs\":%s,\"fleet_runs\":%s,\"batch_size\":%d,"
          + "\"ms_added_per_step\":%.2f}%n", compareBlobRoot, config.get(FleetConfig.BLOB_ROOT), fleetMedian, comparedMedian,
          list(Arrays.stream(compared).mapToDouble(FleetResult::imagesPerSecond).toArray(), 1), list(fleetRates, 1), batch, addedMs);
    }
    if (json) {
      System.out.printf(Locale.ROOT, "{\"config\":\"%s\",\"epochs_measured\":%d,\"rounds\":%d,\"fleet_images_per_s\":%.1f,"
          + "\"fleet_step_images_per_s\":%.1f,\"evaluation_s\":%.3f,\"bare_images_per_s\":%.1f,\"ratio\":%.3f,"
          + "\"bare_with_validation_images_per_s\":%.1f,\"ratio_with_validation\":%.3f,"
          + "\"fleet_runs\":%s,\"bare_runs\":%s,\"ratios\":%s,\"torch_cpus\":\"%s\",\"cpu_cores\":%s}%n",
          request.getFileName(), epochs - warmupEpochs, rounds, fleetMedian, stepsMedian, evaluationMedian, bareMedian, ratioMedian,
          bareWithValidationMedian, ratioWithValidationMedian,
          list(fleetRates, 1), list(bare, 1), list(ratio, 3),
          CpuPartition.apply().map(CpuPartition.Plan::torchCpus).orElse("shared"),
          Arrays.stream(fleet).map(f -> new JsonObject(new LinkedHashMap<String, Object>(f.cpuCores())).encode())
              .collect(Collectors.joining(",", "[", "]")));
    } else {
      System.out.printf(Locale.ROOT, "%-34s %12s%n", "run (" + request.getFileName() + ", medians)", "images/s");
      System.out.printf(Locale.ROOT, "%-34s %12.1f%n", "fleet (end to end)", fleetMedian);
      System.out.printf(Locale.ROOT, "%-34s %12.1f%n", "fleet, its steps alone", stepsMedian);
      System.out.printf(Locale.ROOT, "%-34s %12.1f%n", "bare DJL loop", bareMedian);
      System.out.printf(Locale.ROOT, "%-34s %12.1f%n", "bare loop, validating each epoch", bareWithValidationMedian);
      System.out.printf(Locale.ROOT, "%-34s %12.3f%n", "ratio fleet / bare (per round)", ratioMedian);
      System.out.printf(Locale.ROOT, "%-34s %12.3f%n", "ratio fleet / validating bare", ratioWithValidationMedian);
    }
    return 0;
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static String list(double[] values, int decimals) {
    return Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%." + decimals + "f", v))
        .collect(Collectors.joining(",", "[", "]"));
  }

  /** Steady-state throughput of the bare loop and the size of an epoch. */
  record BareResult(double imagesPerSecond, double withValidationImagesPerSecond, long imagesPerEpoch) {}

  /** The trainer's own step code over in-memory batches: what the fleet would reach with zero overhead. */
  static BareResult bareLoop(TrainingRequest r, FleetConfig config, int warmupEpochs) throws Exception {
    LabeledImages data = DatasetLoader.load(r.getDataset(), r.getNumClasses(), new PathPolicy(config.dataRoots())).images();
    Recipe rc = r.getRecipe();
    StratifiedSplit split = StratifiedSplit.of(data.labels(), data.numClasses(), r.getDataset().getValidationFraction(), rc.getSeed());
    LabeledImages train = data.subset(split.train());
    ImageBatch validation = ImageBatch.of(data.subset(split.validation()));
    Augmentation aug = AugmentationPipeline.fromSpec(rc.getAugmentationsList());
    try (TrainingSession s = TrainingSession.create(r.getBaseModel().getArchitecture(), train.height(),
        SessionConfigs.teacher(r), Device.cpu())) {
      long images = 0;
      long start = 0;
      long perEpoch = 0;
      long validationNanos = 0;
      for (int e = 0; e < rc.getEpochs(); e++) {
        if (e == warmupEpochs) {
          start = System.nanoTime();
          perEpoch = images / warmupEpochs;
          images = 0;
        }
        s.beginEpoch(e);
        int[] order = EpochSampler.order(train.labels(), r.getNumClasses(), e, rc.getSeed(), rc.getBalancedSampling());
        for (int i = 0; i < EpochBatches.steps(order.length, rc.getBatchSize()); i++) {
          ImageBatch batch = EpochBatches.build(train, order, i, rc.getBatchSize(), aug, rc.getSeed(), r.getJobId(), e);
          s.step(batch);
          images += batch.size();
        }
        // what a plain training script does after each epoch, and the fleet's evaluator does per checkpoint:
        // score the validation split with the epoch's weights (timed apart, so both rates come from this run)
        long v = System.nanoTime();
        try (Classifier model = Classifier.load(s.save(ModelManifest.getDefaultInstance(), false), train.height(), Device.cpu())) {
          model.evaluate(validation);
        }
        if (e >= warmupEpochs) {
          validationNanos += System.nanoTime() - v;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new BareResult(images / (seconds - validationNanos / 1e9), images / seconds, perEpoch);
    }
  }

  /**
   * A fleet run: images/s from the TRAIN checkpoint event that ends the warm-up to the last one, the trainer's
   * own steps' images/s over the same epochs (compute only: what the other services' load leaves of the step), seconds
   * per evaluation, and the cores each part used in those epochs.
   */
  record FleetResult(double imagesPerSecond, double stepImagesPerSecond, double evaluationSeconds, Map<String, Double> cpuCores) {}

  /** One job through a local fleet, measured after its warm-up epochs. */
  static FleetResult throughFleet(TrainingRequest job, FleetConfig config, long imagesPerEpoch, int warmupEpochs)
      throws Exception {
    try (LocalFleet fleet = LocalFleet.start(config.with(FleetConfig.TOPIC_PREFIX.key(), job.getJobId()), false);
        FleetClient client = new FleetClient(fleet.config());
        CpuAccounting.Sampler cpu = CpuAccounting.available()
            ? new CpuAccounting.Sampler(fleet.broker() == null ? -1 : fleet.broker().pid(), 500) : null) {
      client.submit(job);
      JobWatcher.Outcome o = new JobWatcher(client, System.err).watch(job.getJobId(), Duration.ofMinutes(60));
      if (!o.succeeded()) {
        throw new IllegalStateException("bench job failed: " + o.lastStatus().getMessage());
      }
      List<Long> times = new ArrayList<>();
      double stepSeconds = 0;
      for (ConsumerRecord<String, byte[]> r : client.readAll(job.getJobId(), List.of(client.topics().checkpoints))) {
        Checkpoint c = Checkpoint.parseFrom(r.value());
        // from the checkpoint that ends the warm-up to the last one
        if (c.getPhase() == Phase.TRAIN && c.getEpoch() >= warmupEpochs - 1) {
          times.add(r.timestamp());
          if (c.getEpoch() >= warmupEpochs) {
            stepSeconds += imagesPerEpoch / c.getImagesPerS();
          }
        }
      }
      times.sort(Long::compare);
      double seconds = (times.get(times.size() - 1) - times.get(0)) / 1e3;
      long images = imagesPerEpoch * (times.size() - 1);
      double evaluation = 0;
      int evaluations = 0;
      for (ConsumerRecord<String, byte[]> r : client.readAll(job.getJobId(), List.of(client.topics().evaluations))) {
        Evaluation ev = Evaluation.parseFrom(r.value());
        if (ev.getPhase() == Phase.TRAIN && ev.getEpoch() >= warmupEpochs) {
          evaluation += ev.getEvalSeconds();
          evaluations++;
        }
      }
      Map<String, Double> cores = cpu == null ? Map.of() : cpu.cores(times.get(0), times.get(times.size() - 1));
      return new FleetResult(images / seconds, images / stepSeconds, evaluations == 0 ? 0 : evaluation / evaluations, cores);
    }
  }
}
