package io.tunefleet.bench;

import ai.djl.Device;
import io.tunefleet.cli.FleetClient;
import io.tunefleet.common.blob.FolderBlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.local.EmbeddedKafka;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * `fleet bench-photo-memory`: peak resident memory of the data-augmenter and the evaluator on a photo dataset larger
 * than their heap, each run as the container runs it: a child JVM with the Dockerfile's JVM flags
 * ({@code JAVA_TOOL_OPTIONS}), the given {@code -Xmx}, and {@code fleet run SERVICE} (the real service: consumer loop,
 * handler, Kafka producer) against an embedded broker and a folder blob store. The augmenter is sent a one-epoch
 * request on an image folder of generated JPEGs ({@code bench/make_photos.py}, a few thousand distinct photos
 * hard-linked under every name: the memory bounds depend on the number of files, not their content); it must accept it
 * and publish every batch of the epoch. The evaluator is then sent a checkpoint of a freshly initialised network
 * (its weights do not change the work) and must score the job's whole validation split. The peak is the child's
 * {@code VmHWM} from /proc, read before it is stopped.
 */
@Command(name = "bench-photo-memory", description = "Peak RSS of the data-augmenter (accept + one epoch) and the evaluator "
    + "(score the validation split) on a large photo folder, each a child JVM with the image's JVM flags and -Xmx.")
final class PhotoMemoryBench implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--images", description = "Photos in the dataset (default ${DEFAULT-VALUE}; 10%% are held out for validation)")
  int images = 100_000;

  @Option(names = "--distinct", description = "Distinct photos encoded when the folder is generated; the rest are hard "
      + "links to them (default ${DEFAULT-VALUE})")
  int distinct = 2000;

  @Option(names = "--photos", description = "Folder of class sub-folders of JPEGs (default /tmp/fleet-photo-memory-IMAGES; "
      + "made by bench/make_photos.py when missing)")
  Path photos;

  @Option(names = "--work", description = "Blob store and broker folder, deleted afterwards unless --keep "
      + "(default ${DEFAULT-VALUE}); one epoch of 224 px batches takes about 150 KB per training image")
  Path work = Path.of("/tmp/fleet-photo-memory-work");

  @Option(names = "--keep", description = "Keep the blob store (batches, validation shards) afterwards")
  boolean keep;

  @Option(names = "--heap", description = "-Xmx of each service's JVM (default ${DEFAULT-VALUE})")
  String heap = "1g";

  @Option(names = "--threads", description = "FLEET_AUGMENT_THREADS of the augmenter (default: its own default, the "
      + "processors the JVM sees)")
  Integer threads;

  @Option(names = "--image-size", description = "recipe.image_size (default ${DEFAULT-VALUE})")
  int imageSize = 224;

  @Option(names = "--batch", description = "recipe.batch_size (default ${DEFAULT-VALUE})")
  int batch = 64;

  @Option(names = "--model", description = "Architecture the evaluator scores, FAMILY/WIDTH (default ${DEFAULT-VALUE}: "
      + "small, so that scoring stays minutes on a laptop's CPU; the memory of the split does not depend on it)")
  String model = "resnet10/16";

  @Option(names = "--skip-evaluator", description = "Measure the augmenter only")
  boolean skipEvaluator;

  @Option(names = "--timeout-minutes", description = "Give up on a service after this long (default ${DEFAULT-VALUE})")
  int timeoutMinutes = 60;

  @Option(names = "--python", description = "Python with NumPy and PIL, for make_photos.py (default ${DEFAULT-VALUE})")
  String python = "/usr/bin/python3";

  /** What one child JVM did: its peak and last resident set, seconds, and how it ended. */
  record Measured(long peakKb, long lastKb, double seconds, String outcome) {}

  /** Class folders of a generated dataset (bench/make_photos.py). */
  private static final int CLASSES = 4;

  @Override
  public Integer call() throws Exception {
    if (images < 2 * CLASSES || distinct < CLASSES || distinct % CLASSES != 0 || imageSize < 8 || batch < 2 || timeoutMinutes < 1) {
      throw new ParameterException(spec.commandLine(), "--images must be at least 8, --distinct a positive multiple of 4, "
          + "--image-size at least 8, --batch at least 2 and --timeout-minutes positive");
    }
    String[] fw = model.split("/");
    if (fw.length != 2 || !fw[1].matches("[1-9][0-9]*")) {
      throw new ParameterException(spec.commandLine(), "--model must be FAMILY/WIDTH (resnet10/16), was '" + model + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    List<String> imageFlags = imageJvmFlags();
    Path folder = (photos != null ? photos : Path.of("/tmp/fleet-photo-memory-" + images)).toAbsolutePath();
    if (!Files.isDirectory(folder)) {
      out.println(PhotoBench.run(List.of(python, PhotoBench.script("make_photos.py").toString(), folder.toString(),
          Integer.toString(images), "--distinct", Integer.toString(Math.min(distinct, images)))));
    }
    long[] files = countPhotos(folder);
    int classes;
    try (Stream<Path> s = Files.list(folder)) {
      classes = (int) s.filter(Files::isDirectory).count();
    }
    out.printf(Locale.ROOT, "%,d JPEGs in %s (%,d distinct files, %.0f KB on average); services: -Xmx%s with the image's "
        + "JAVA_TOOL_OPTIONS=\"%s\"%n", files[0], folder, files[1], files[2] / 1024.0 / files[0], heap, String.join(" ", imageFlags));
    out.flush();

    deleteTree(work);
    Path blobRoot = work.resolve("blobs");
    Files.createDirectories(blobRoot);
    String job = "photo-memory-" + files[0];
    Measured augmenter;
    Measured evaluator = null;
    int published;
    int steps;
    String acceptance;
    double acceptSeconds;
    long diskBytes;
    int validationSize;
    EmbeddedKafka broker = new EmbeddedKafka(work.resolve("kafka"), 0, 1);
    FleetConfig config = FleetConfig.fromEnvironment().with(FleetConfig.BOOTSTRAP_SERVERS.key(), broker.bootstrapServers())
        .with(FleetConfig.BLOB_ROOT.key(), blobRoot.toString()).with(FleetConfig.DATA_ROOTS.key(), folder.toString())
        .with(FleetConfig.PARTITIONS.key(), 1).with(FleetConfig.TOPIC_PREFIX.key(), "fleet");
    try (EmbeddedKafka started = broker.start(); FleetClient client = new FleetClient(config)) {
      Topics topics = new Topics(config);
      topics.create(config);

      // ---- the data-augmenter: accept, then one epoch of batches ----
      TrainingRequest request = TrainingRequest.newBuilder().setJobId(job).setNumClasses(classes)
          .setDataset(DatasetSpec.newBuilder().setFormat("image_folder").setImages(folder.toString()).setValidationFraction(0.1f))
          .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily(fw[0])
              .setBaseWidth(Integer.parseInt(fw[1])).setStem("imagenet")))
          .setRecipe(Recipe.newBuilder().setEpochs(1).setLeadEpochs(1).setBatchSize(batch).setImageSize(imageSize))
          .setDistillation(Distillation.newBuilder().setEnabled(false)).build();
      Map<String, String> env = new java.util.HashMap<>(Map.of(FleetConfig.BOOTSTRAP_SERVERS.key(), broker.bootstrapServers(),
          FleetConfig.BLOB_ROOT.key(), blobRoot.toString(), FleetConfig.DATA_ROOTS.key(), folder.toString(),
          FleetConfig.PARTITIONS.key(), "1", FleetConfig.METRICS_PORT.key(), "0", FleetConfig.DEVICE.key(), "cpu"));
      if (threads != null) {
        env.put(FleetConfig.AUGMENT_THREADS.key(), threads.toString());
      }
      out.printf(Locale.ROOT, "data-augmenter: request %s (%d classes, %d%% validation, %d px, batches of %d, 1 epoch)%n", job,
          classes, 10, imageSize, batch);
      out.flush();
      Service aug = Service.start("data-augmenter", imageFlags, heap, env, work.resolve("data-augmenter.log"));
      long start = System.nanoTime();
      client.submit(request);
      BitSet seen = new BitSet();
      int[] stepsInEpoch = {-1};
      String[] accepted = {null};
      double[] acceptedAt = {-1};
      String failure = null;
      try (KafkaConsumer<String, byte[]> consumer = client.consumerFor(job, List.of(topics.status, topics.batches))) {
        long deadline = start + TimeUnit.MINUTES.toNanos(timeoutMinutes);
        int lastReport = 0;
        while (failure == null && (stepsInEpoch[0] < 0 || seen.cardinality() < stepsInEpoch[0])) {
          if (!aug.process.isAlive()) {
            failure = "the data-augmenter's JVM " + exited(aug.process.exitValue()) + "; log: " + aug.log + "\n" + tail(aug.log);
            break;
          }
          if (System.nanoTime() > deadline) {
            failure = "no whole epoch after " + timeoutMinutes + " minutes (" + seen.cardinality() + " batches)";
            break;
          }
          aug.sample();
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            if (!job.equals(r.key())) {
              continue;
            }
            if (r.topic().equals(topics.status)) {
              JobStatus s = JobStatus.parseFrom(r.value());
              if (s.getState() == JobStatus.State.FAILED) {
                failure = "the job failed: " + s.getMessage();
              } else if (s.getState() == JobStatus.State.ACCEPTED && accepted[0] == null) {
                accepted[0] = s.getMessage();
                acceptedAt[0] = (System.nanoTime() - start) / 1e9;
                out.printf(Locale.ROOT, "  %6.1f s  %s; RSS %s%n", acceptedAt[0], s.getMessage(), mb(aug.rssKb()));
              }
            } else {
              BatchRef b = BatchRef.parseFrom(r.value());
              if (b.getPhase() == Phase.TRAIN && b.getEpoch() == 0) {
                seen.set(b.getIndexInEpoch());
                stepsInEpoch[0] = b.getStepsInEpoch();
              }
            }
          }
          if (seen.cardinality() >= lastReport + Math.max(1, stepsInEpoch[0] / 10)) {
            lastReport = seen.cardinality();
            out.printf(Locale.ROOT, "  %6.1f s  %d of %d batches; RSS %s, peak %s%n", (System.nanoTime() - start) / 1e9,
                lastReport, stepsInEpoch[0], mb(aug.rssKb()), mb(aug.peakKb()));
          }
          out.flush();
        }
      }
      augmenter = aug.stop(start, failure == null ? "accepted, one epoch published" : failure);
      published = seen.cardinality();
      steps = stepsInEpoch[0];
      acceptance = accepted[0];
      acceptSeconds = acceptedAt[0];
      diskBytes = treeBytes(blobRoot);
      out.printf(Locale.ROOT, "data-augmenter: %s in %.1f s (accepted after %.1f s); %d of %d batches; peak RSS (VmHWM) %s; "
          + "blob store %.2f GB%n", augmenter.outcome(), augmenter.seconds(), acceptSeconds, published, steps,
          mb(augmenter.peakKb()), diskBytes / 1e9);
      out.flush();
      if (failure != null) {
        return 1;
      }
      FolderBlobStore blobs = new FolderBlobStore(blobRoot);
      // the batches are done with: the evaluator reads only the request and the validation split
      blobs.deleteTree(JobPaths.epochDir(job, Phase.TRAIN, 0));
      TrainingRequest resolved = TrainingRequest.parseFrom(blobs.read(JobPaths.request(job)));
      validationSize = validationImages(acceptance);

      // ---- the evaluator: score one checkpoint on the whole validation split ----
      if (!skipEvaluator) {
        evaluator = evaluate(out, config, client, topics, blobs, resolved, imageFlags, env);
      }
    } finally {
      for (Process p : Service.STARTED) {
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      if (!keep) {
        deleteTree(work);
      }
    }
    out.printf(Locale.ROOT, "%nsummary (%,d JPEGs, %d px, -Xmx%s, %s):%n", files[0], imageSize, heap, String.join(" ", imageFlags));
    out.printf(Locale.ROOT, "  data-augmenter  peak RSS %s  %.1f s (accepted after %.1f s)  %d batches of %d  blob store %.2f GB%n",
        mb(augmenter.peakKb()), augmenter.seconds(), acceptSeconds, published, batch, diskBytes / 1e9);
    if (evaluator != null && evaluator.outcome().startsWith("scored")) {
      out.printf(Locale.ROOT, "  evaluator       peak RSS %s  %.1f s  %,d validation images scored by %s  (%s)%n",
          mb(evaluator.peakKb()), evaluator.seconds(), validationSize, model, evaluator.outcome());
    } else if (evaluator != null) {
      out.printf(Locale.ROOT, "  evaluator       FAILED on %,d validation images after %.1f s, peak RSS %s: %s%n", validationSize,
          evaluator.seconds(), mb(evaluator.peakKb()), evaluator.outcome().lines().findFirst().orElse(""));
    }
    return evaluator == null || evaluator.outcome().startsWith("scored") ? 0 : 1;
  }

  private Measured evaluate(PrintWriter out, FleetConfig config, FleetClient client, Topics topics, FolderBlobStore blobs,
      TrainingRequest r, List<String> imageFlags, Map<String, String> env) throws Exception {
    String job = r.getJobId();
    // a checkpoint as the trainer writes it, of a network that has not trained: the same scoring work as a trained one
    int size = r.getRecipe().getImageSize();
    Architecture a = r.getBaseModel().getArchitecture();
    byte[][] saved = new byte[1][];
    long[] parameters = new long[1];
    TorchThread.call(() -> {
      try (TrainingSession s = TrainingSession.create(a, size, Normalization.fromId(r.getRecipe().getNormalization()),
          SessionConfigs.teacher(r), Device.cpu(), SessionConfigs.modelSeed(r, Phase.TRAIN))) {
        saved[0] = s.save(ModelManifest.newBuilder().setJobId(job).setPhase(Phase.TRAIN).setEpoch(0).build(), false);
        parameters[0] = s.parameterCount();
      }
      return null;
    });
    BlobRef weights = blobs.put(JobPaths.checkpoint(job, Phase.TRAIN, 0), saved[0]);
    Checkpoint c = Checkpoint.newBuilder().setJobId(job).setPhase(Phase.TRAIN).setEpoch(0).setGlobalStep(1)
        .setCheckpoint(weights).setRequest(blobs.refOf(JobPaths.request(job))).setValidation(blobs.refOf(JobPaths.validation(job)))
        .setEpochsPlanned(r.getRecipe().getEpochs()).setArchitecture(a).setParameterCount(parameters[0]).build();
    try (FleetProducer producer = new FleetProducer(config, "bench-photo-memory")) {
      producer.sendAndWait(topics.checkpoints, job, c);
    }
    out.printf(Locale.ROOT, "evaluator: checkpoint of an untrained %s (%,d parameters) on the validation split%n",
        io.tunefleet.ml.model.ResNets.name(a), parameters[0]);
    out.flush();
    Service ev = Service.start("evaluator", imageFlags, heap, env, work.resolve("evaluator.log"));
    long start = System.nanoTime();
    String outcome = null;
    try (KafkaConsumer<String, byte[]> consumer = client.consumerFor(job, List.of(topics.evaluations))) {
      long deadline = start + TimeUnit.MINUTES.toNanos(timeoutMinutes);
      long nextReport = start + TimeUnit.SECONDS.toNanos(30);
      while (outcome == null) {
        if (!ev.process.isAlive()) {
          outcome = "the evaluator's JVM " + exited(ev.process.exitValue()) + "; log: " + ev.log + "\n" + tail(ev.log);
          break;
        }
        if (System.nanoTime() > deadline) {
          outcome = "no verdict after " + timeoutMinutes + " minutes";
          break;
        }
        ev.sample();
        for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
          Evaluation e = Evaluation.parseFrom(rec.value());
          if (job.equals(e.getJobId()) && e.getEpoch() == 0) {
            long scored = e.getMetrics().getConfusionList().stream().mapToLong(Long::longValue).sum();
            outcome = String.format(Locale.ROOT, "scored %,d images: accuracy %.3f, verdict %s, %.1f s in the evaluator",
                scored, e.getMetrics().getAccuracy(), e.getVerdict(), e.getEvalSeconds());
          }
        }
        if (System.nanoTime() > nextReport) {
          nextReport += TimeUnit.SECONDS.toNanos(30);
          out.printf(Locale.ROOT, "  %6.1f s  RSS %s, peak %s%n", (System.nanoTime() - start) / 1e9, mb(ev.rssKb()), mb(ev.peakKb()));
          out.flush();
        }
      }
    }
    Measured m = ev.stop(start, outcome);
    out.printf(Locale.ROOT, "evaluator: %s; %.1f s from its start; peak RSS (VmHWM) %s%n", m.outcome(), m.seconds(), mb(m.peakKb()));
    out.flush();
    return m;
  }

  /** A service in a child JVM as the image runs it, with its /proc status sampled. */
  private static final class Service {
    final Process process;
    final Path log;
    long peakKb;
    long lastKb;

    private Service(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    /** Every child started, stopped when the command ends however it ends. */
    static final List<Process> STARTED = new ArrayList<>();

    static Service start(String name, List<String> imageFlags, String heap, Map<String, String> env, Path log) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      // after JAVA_TOOL_OPTIONS, as a Kubernetes manifest's -Xmx on the command line: it wins over MaxRAMPercentage
      cmd.add("-Xmx" + heap);
      cmd.add("-Dai.djl.offline=true");
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tunefleet.cli.Fleet", "run", name));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("FLEET_"));
      pb.environment().putAll(env);
      pb.environment().put("JAVA_TOOL_OPTIONS", String.join(" ", imageFlags));
      Process p = pb.start();
      STARTED.add(p);
      return new Service(p, log);
    }

    void sample() {
      long[] s = status(process.pid());
      if (s != null) {
        lastKb = s[0];
        peakKb = Math.max(peakKb, s[1]);
      }
    }

    long rssKb() {
      return lastKb;
    }

    long peakKb() {
      return peakKb;
    }

    Measured stop(long start, String outcome) throws InterruptedException {
      double seconds = (System.nanoTime() - start) / 1e9;
      sample();
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      return new Measured(peakKb, lastKb, seconds, outcome);
    }
  }

  /** {VmRSS, VmHWM} in kB of a live process, or null once it is gone. */
  static long[] status(long pid) {
    try {
      long rss = -1;
      long hwm = -1;
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
        } else if (line.startsWith("VmHWM:")) {
          hwm = Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      return rss < 0 || hwm < 0 ? null : new long[] {rss, hwm};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The JVM flags the Dockerfile gives the services (its JAVA_TOOL_OPTIONS). */
  static List<String> imageJvmFlags() throws IOException {
    Path dockerfile = PhotoBench.script("make_photos.py").getParent().getParent().resolve("Dockerfile");
    Matcher m = Pattern.compile("JAVA_TOOL_OPTIONS=\"([^\"]*)\"").matcher(Files.readString(dockerfile));
    if (!m.find()) {
      throw new IllegalStateException(dockerfile + " sets no JAVA_TOOL_OPTIONS=\"...\"");
    }
    return Arrays.asList(m.group(1).trim().split("\\s+"));
  }

  /** {files, distinct files (inodes), bytes} of the photos under {@code folder}. */
  private static long[] countPhotos(Path folder) throws IOException {
    long n = 0;
    long bytes = 0;
    java.util.Set<Object> inodes = new java.util.HashSet<>();
    try (Stream<Path> s = Files.walk(folder)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (Files.isRegularFile(p) && (name.endsWith(".jpg") || name.endsWith(".jpeg") || name.endsWith(".png"))) {
          n++;
          bytes += Files.size(p);
          Object key = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
          inodes.add(key == null ? p : key);
        }
      }
    }
    return new long[] {n, inodes.size(), bytes};
  }

  /** The validation count of the augmenter's acceptance summary ("accepted: N training and M validation images, …"). */
  private static int validationImages(String acceptance) {
    Matcher m = Pattern.compile("and (\\d+) validation images").matcher(acceptance == null ? "" : acceptance);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  private static String exited(int code) {
    return "exited with " + code + (code == 3 ? " (an OutOfMemoryError, -XX:+ExitOnOutOfMemoryError)"
        : code == 137 ? " (killed: SIGKILL, e.g. the kernel's OOM killer)" : "");
  }

  private static String mb(long kb) {
    return String.format(Locale.ROOT, "%,d MB", Math.round(kb * 1024 / 1e6));
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static long treeBytes(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
