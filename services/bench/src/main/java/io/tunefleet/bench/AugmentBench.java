package io.tunefleet.bench;

import io.tunefleet.ml.augment.Blur;
import io.tunefleet.ml.augment.Flip;
import io.tunefleet.ml.augment.GaussNoise;
import io.tunefleet.ml.augment.HorizontalFlip;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.MedianBlur;
import io.tunefleet.ml.augment.MotionBlur;
import io.tunefleet.ml.augment.ProbabilisticTransform;
import io.tunefleet.ml.augment.RandomResizedCrop;
import io.tunefleet.ml.augment.RandomRotate90;
import io.tunefleet.ml.augment.Resize;
import io.tunefleet.ml.augment.Transpose;
import io.tunefleet.ml.augment.VerticalFlip;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * `fleet bench-augment`: single-thread throughput of each augmentation op (p forced to 1, Albumentations' default
 * parameters) on random uint8 RGB images, by default at 224x224 and 32x32, the same workload as
 * {@code shared/anchors/opencv_augment_bench.py}. Each op is warmed up, then timed in rounds; the median round is
 * reported. With {@code --json}, one JSON object per op and size per line:
 * {@code {"op":"HorizontalFlip","size":"224x224x3","images_per_s":...,"images_per_cpu_s":...}}. images_per_s is
 * wall-clock throughput; images_per_cpu_s divides by the thread's CPU time instead, which stays meaningful when
 * other processes compete for the cores (the two agree on a quiet machine).
 */
@Command(name = "bench-augment", description = "Single-thread images/s of each augmentation op (p = 1), per image size.")
final class AugmentBench implements Callable<Integer> {
  private static final int IMAGES = 64;

  @Spec
  CommandSpec spec;

  @Option(names = "--json", description = "One JSON object per op and size")
  boolean json;

  @Option(names = "--seconds", description = "Minimum seconds per timed round (default ${DEFAULT-VALUE})")
  double seconds = 1.0;

  @Option(names = "--rounds", description = "Timed rounds per op and size; the median is reported (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--warmup", description = "Warm-up seconds per op and size (default ${DEFAULT-VALUE})")
  double warmup = 2.0;

  @Option(names = "--ops", split = ",", description = "Only these ops, by Albumentations name (default: all)")
  List<String> ops = List.of();

  @Option(names = "--sizes", split = ",", description = "Input edge lengths (default ${DEFAULT-VALUE})")
  List<Integer> sizes = List.of(224, 32);

  /** One measured op at one size. */
  record Result(String op, String size, double imagesPerSecond, double imagesPerCpuSecond, long images,
      double seconds) {
    String json() {
      return String.format(Locale.ROOT,
          "{\"op\":\"%s\",\"size\":\"%s\",\"images_per_s\":%.1f,\"images_per_cpu_s\":%.1f}", op, size,
          imagesPerSecond, imagesPerCpuSecond);
    }
  }

  /** The ops benchmarked, by Albumentations name; the size argument is the input edge length. */
  static Map<String, IntFunction<ProbabilisticTransform>> ops() {
    Map<String, IntFunction<ProbabilisticTransform>> ops = new LinkedHashMap<>();
    ops.put("HorizontalFlip", s -> new HorizontalFlip(1.0));
    ops.put("VerticalFlip", s -> new VerticalFlip(1.0));
    ops.put("Flip", s -> new Flip(1.0));
    ops.put("Transpose", s -> new Transpose(1.0));
    ops.put("RandomRotate90", s -> new RandomRotate90(1.0));
    ops.put("GaussNoise", s -> new GaussNoise(GaussNoise.DEFAULT_VAR_MIN, GaussNoise.DEFAULT_VAR_MAX,
        GaussNoise.DEFAULT_MEAN, true, 1.0));
    ops.put("MotionBlur", s -> new MotionBlur(MotionBlur.DEFAULT_BLUR_MIN, MotionBlur.DEFAULT_BLUR_LIMIT,
        true, 1.0));
    ops.put("MedianBlur", s -> new MedianBlur(MedianBlur.DEFAULT_BLUR_MIN, MedianBlur.DEFAULT_BLUR_LIMIT, 1.0));
    ops.put("Blur", s -> new Blur(Blur.DEFAULT_BLUR_MIN, Blur.DEFAULT_BLUR_LIMIT, 1.0));
    ops.put("Resize", s -> new Resize(s * 8 / 7, s * 8 / 7, 1.0));
    ops.put("RandomResizedCrop", s -> new RandomResizedCrop(s, s, RandomResizedCrop.DEFAULT_SCALE_MIN,
        RandomResizedCrop.DEFAULT_SCALE_MAX, RandomResizedCrop.DEFAULT_RATIO_MIN,
        RandomResizedCrop.DEFAULT_RATIO_MAX, 1.0));
    return ops;
  }

  /**
   * Runs op on random size x size x 3 images: warm-up, then {@code rounds} timed loops of at least
   * {@code seconds} each; returns the round with the median throughput.
   */
  static Result measure(String name, ProbabilisticTransform op, int size, double seconds, int rounds,
      double warmupSeconds) {
    SplittableRandom data = new SplittableRandom(0);
    ImageU8[] images = new ImageU8[IMAGES];
    for (int i = 0; i < IMAGES; i++) {
      byte[] px = new byte[size * size * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) data.nextInt(256);
      }
      images[i] = new ImageU8(size, size, 3, px);
    }
    SplittableRandom rng = new SplittableRandom(42);
    long sink = 0;
    long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
    while (System.nanoTime() < warmupEnd) {
      for (ImageU8 img : images) {
        sink += op.apply(img, rng).pixels()[0];
      }
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Result[] results = new Result[rounds];
    for (int round = 0; round < rounds; round++) {
      long count = 0;
      long cpuStart = threads.getCurrentThreadCpuTime();
      long start = System.nanoTime();
      long deadline = start + (long) (seconds * 1e9);
      long now;
      do {
        for (ImageU8 img : images) {
          sink += op.apply(img, rng).pixels()[0];
        }
        count += IMAGES;
        now = System.nanoTime();
      } while (now < deadline);
      double elapsed = (now - start) / 1e9;
      double cpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
      results[round] = new Result(name, size + "x" + size + "x3", count / elapsed,
          cpu > 0 ? count / cpu : Double.NaN, count, elapsed);
    }
    if (sink == Long.MIN_VALUE) {
      System.out.print(""); // keeps the results alive
    }
    java.util.Arrays.sort(results, java.util.Comparator.comparingDouble(Result::imagesPerSecond));
    return results[rounds / 2];
  }

  @Override
  public Integer call() {
    if (rounds < 1) {
      throw new ParameterException(spec.commandLine(), "--rounds must be at least 1, was " + rounds);
    }
    if (!(seconds > 0) || warmup < 0) {
      throw new ParameterException(spec.commandLine(), "--seconds must be positive and --warmup not negative, were "
          + seconds + " and " + warmup);
    }
    List<String> unknown = ops.stream().filter(op -> !ops().containsKey(op)).toList();
    if (!unknown.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--ops: unknown " + unknown + "; one of " + ops().keySet());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (!json) {
      out.printf(Locale.ROOT, "%-18s %-11s %14s %18s%n", "op", "size", "images/s", "images/cpu-s");
    }
    for (int size : sizes) {
      for (Map.Entry<String, IntFunction<ProbabilisticTransform>> e : ops().entrySet()) {
        if (!ops.isEmpty() && !ops.contains(e.getKey())) {
          continue;
        }
        Result r = measure(e.getKey(), e.getValue().apply(size), size, seconds, rounds, warmup);
        if (json) {
          out.println(r.json());
        } else {
          out.printf(Locale.ROOT, "%-18s %-11s %14.1f %18.1f%n", r.op(), r.size(), r.imagesPerSecond(),
              r.imagesPerCpuSecond());
        }
        out.flush();
      }
    }
    return 0;
  }
}
