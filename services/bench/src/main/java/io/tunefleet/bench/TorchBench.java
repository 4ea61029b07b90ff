package io.tunefleet.bench;

import ai.djl.Device;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.train.LabelSmoothingLoss;
import io.tunefleet.ml.train.MallocTuning;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.Architecture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `fleet bench-pytorch`: the trainer's step (TrainingSession: DJL, libtorch) against a plain PyTorch loop
 * (bench/pytorch_train_bench.py on Debian's python3-torch) on the same architecture, input size, batch,
 * optimizer and thread count, alternating trainer and PyTorch ({@code --rounds} times per configuration);
 * median images/s.
 */
@Command(name = "bench-pytorch", description = "Trainer step vs plain PyTorch, images/s per configuration.")
final class TorchBench implements Callable<Integer> {
  /** One benchmark configuration. */
  record Config(String name, int[] blocks, int width, boolean bottleneck, String stem, int size, int batch, int steps) {}

  static final List<Config> CONFIGS = List.of(
      new Config("demo resnet10-w16 28px b64", new int[] {1, 1, 1, 1}, 16, false, "small", 28, 64, 40),
      new Config("resnet18 cifar-stem 32px b64", new int[] {2, 2, 2, 2}, 64, false, "small", 32, 64, 15),
      new Config("resnet18 224px b16", new int[] {2, 2, 2, 2}, 64, false, "imagenet", 224, 16, 10),
      new Config("resnet50 64px b32", new int[] {3, 4, 6, 3}, 64, true, "imagenet", 64, 32, 15),
      new Config("resnet50 224px b8", new int[] {3, 4, 6, 3}, 64, true, "imagenet", 224, 8, 10));

  @Option(names = "--json", description = "One JSON object per configuration")
  boolean json;

  @Option(names = "--only", description = "Run only configurations whose name contains this")
  String only = "";

  @Option(names = "--warmup-seconds", description = "Warm-up before timing, on both sides (default ${DEFAULT-VALUE}): "
      + "the JVM compiles the trainer's Java code paths during the first few hundred steps")
  double warmupSeconds = 8;

  @Option(names = "--rounds", description = "Alternations of trainer and PyTorch per configuration (default ${DEFAULT-VALUE})")
  int rounds = 2;

  @Option(names = "--pytorch-malloc-like-trainer", description = "Give the PyTorch script the glibc malloc thresholds "
      + "the trainer sets for itself (MallocTuning), to compare the two with the same allocator settings")
  boolean pytorchMallocLikeTrainer;

  @Option(names = "--threads", description = "Intra-op threads for both (default: the machine's cores)")
  int threads = Runtime.getRuntime().availableProcessors();

  @Override
  public Integer call() throws Exception {
    if (!json) {
      System.out.printf(Locale.ROOT, "%-30s %12s %12s %7s%n", "configuration", "trainer/s", "pytorch/s", "ratio");
    }
    for (Config c : CONFIGS) {
      if (!c.name().contains(only)) {
        continue;
      }
      List<Double> trainer = new ArrayList<>();
      List<Double> torch = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        trainer.add(TorchThread.call(() -> trainer(c, warmupSeconds)));
        torch.add(pytorch(c, threads, warmupSeconds, pytorchMallocLikeTrainer));
      }
      double t = median(trainer);
      double p = median(torch);
      if (json) {
        System.out.printf(Locale.ROOT, "{\"config\":\"%s\",\"trainer_images_per_s\":%.2f,\"pytorch_images_per_s\":%.2f,"
            + "\"ratio\":%.3f,\"trainer_runs\":%s,\"pytorch_runs\":%s}%n", c.name(), t, p, t / p, fmt(trainer), fmt(torch));
      } else {
        System.out.printf(Locale.ROOT, "%-30s %12.1f %12.1f %7.2f%n", c.name(), t, p, t / p);
      }
      System.out.flush();
    }
    return 0;
  }

  static double trainer(Config c, double warmupSeconds) {
    Architecture a = Architecture.newBuilder().setFamily("resnet").addAllBlocks(Arrays.stream(c.blocks()).boxed().toList())
        .setBaseWidth(c.width()).setBottleneck(c.bottleneck()).setStem(c.stem()).setNumClasses(10).build();
    SplittableRandom rng = new SplittableRandom(0);
    List<ImageU8> imgs = new ArrayList<>();
    int[] labels = new int[c.batch()];
    for (int i = 0; i < c.batch(); i++) {
      byte[] px = new byte[c.size() * c.size() * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      imgs.add(new ImageU8(c.size(), c.size(), 3, px));
      labels[i] = rng.nextInt(10);
    }
    ImageBatch batch = ImageBatch.of(imgs, labels, new int[c.batch()]);
    try (TrainingSession s = TrainingSession.create(a, c.size(), new TrainingSession.Config(0.01f, 0.01f, 0.9f, 5e-4f,
        new LabelSmoothingLoss(0.1f), UnfreezeSchedule.everythingTrainable(), 1000), Device.cpu())) {
      s.beginEpoch(0);
      long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
      for (int i = 0; i < Math.max(3, c.steps() / 5) || System.nanoTime() < warmupEnd; i++) {
        s.step(batch);
      }
      int window = Math.max(1, c.steps() / 5);
      List<Double> rates = new ArrayList<>();
      for (int w = 0; w < 5; w++) {
        long t = System.nanoTime();
        for (int i = 0; i < window; i++) {
          s.step(batch);
        }
        rates.add(window * c.batch() / ((System.nanoTime() - t) / 1e9));
      }
      return median(rates);
    }
  }

  static double pytorch(Config c, int threads, double warmupSeconds, boolean mallocLikeTrainer)
      throws IOException, InterruptedException {
    List<String> cmd = List.of("/usr/bin/python3", Path.of("bench/pytorch_train_bench.py").toString(),
        String.join(",", Arrays.stream(c.blocks()).mapToObj(Integer::toString).toList()), Integer.toString(c.width()),
        c.bottleneck() ? "1" : "0", c.stem(), Integer.toString(c.size()), Integer.toString(c.batch()),
        Integer.toString(c.steps()), Integer.toString(threads), Double.toString(warmupSeconds));
    ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (mallocLikeTrainer) {
      builder.environment().putAll(MallocTuning.environment());
    }
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the PyTorch bench failed (needs Debian's python3-torch): " + out);
    }
    Matcher m = Pattern.compile("\"images_per_s\": ([0-9.eE+-]+)").matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("unexpected PyTorch bench output: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  private static double median(List<Double> v) {
    return Bench.median(v.stream().mapToDouble(Double::doubleValue).toArray());
  }

  private static String fmt(List<Double> v) {
    return v.stream().map(x -> String.format(Locale.ROOT, "%.1f", x)).toList().toString();
  }
}
