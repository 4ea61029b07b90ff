package io.tunefleet.bench;

import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.HorizontalFlip;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.InputPipeline;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.data.DatasetLoader;
import io.tunefleet.ml.data.PhotoSamples;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.proto.v1.DatasetSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * `fleet bench-photos`: images/s of torchvision's ImageNet training input on JPEG photos (decode, RandomResizedCrop(224),
 * horizontal flip, ImageNet normalisation to float CHW, batch), the fleet's pipeline against torchvision's
 * ({@code bench/torchvision_photos.py}: PIL + torchvision, one process, one thread) on the same files, the two
 * alternated round by round so that a busy machine slows both alike; then the fleet on 2 threads (the augmenter's
 * per-sample tasks, the next batch decoded while one is assembled) and the JPEG decoders alone (the JDK's ImageIO
 * reader, TwelveMonkeys'). Per core means per CPU-second of the process: meaningful when other processes share the
 * cores. Photos: {@code bench/make_photos.py} (generated under /tmp when the folder is missing).
 */
@Command(name = "bench-photos", description = "Photo input pipeline images/s per core: the fleet vs torchvision, 1 vs 2 threads, JPEG decoders.")
final class PhotoBench implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--photos", description = "Folder of class sub-folders of JPEGs (default ${DEFAULT-VALUE}; made by bench/make_photos.py when missing)")
  Path photos = Path.of("/tmp/fleet-bench-photos");

  @Option(names = "--count", description = "Photos to generate when the folder is missing (default ${DEFAULT-VALUE})")
  int count = 256;

  @Option(names = "--rounds", description = "Alternated rounds; medians are reported (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--seconds", description = "Seconds per side and round (default ${DEFAULT-VALUE})")
  double seconds = 4;

  @Option(names = "--batch", description = "Batch size (default ${DEFAULT-VALUE})")
  int batch = 32;

  @Option(names = "--threads", description = "Threads of the parallel run (default ${DEFAULT-VALUE})")
  int threads = 2;

  @Option(names = "--python", description = "Python with torchvision (default ${DEFAULT-VALUE})")
  String python = "/usr/bin/python3";

  /** Images and the seconds they took: wall clock and CPU of the process. */
  record Rate(long images, double wall, double cpu) {
    double perSecond() {
      return images / wall;
    }

    double perCpuSecond() {
      return images / cpu;
    }
  }

  private static final int SIZE = 224;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1 || !(seconds > 0) || batch < 1 || threads < 1 || count < 1) {
      throw new ParameterException(spec.commandLine(), "--rounds, --seconds, --batch, --threads and --count must be positive");
    }
    PrintWriter out = spec.commandLine().getOut();
    if (!Files.isDirectory(photos)) {
      run(List.of(python, script("make_photos.py").toString(), photos.toString(), Integer.toString(count)));
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(photos)) {
      files = s.filter(p -> p.toString().endsWith(".jpg")).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--photos: no .jpg files under " + photos);
    }
    long bytes = 0;
    for (Path f : files) {
      bytes += Files.size(f);
    }
    out.printf(Locale.ROOT, "%d JPEGs in %s (%.0f KB on average); %d rounds of %.0f s per side, batches of %d, %d cores seen%n",
        files.size(), photos, bytes / 1024.0 / files.size(), rounds, seconds, batch, Runtime.getRuntime().availableProcessors());
    String[] names = {"torchvision (PIL, 1 thread)", "fleet, 1 thread", "fleet, " + threads + " threads",
        "decode only: JDK ImageIO", "decode only: TwelveMonkeys"};
    List<List<Rate>> rates = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      rates.add(new ArrayList<>());
    }
    // indexed as at acceptance: headers only
    int classes;
    try (Stream<Path> s = Files.list(photos)) {
      classes = (int) s.filter(Files::isDirectory).count();
    }
    PhotoSamples indexed = (PhotoSamples) DatasetLoader.load(DatasetSpec.newBuilder().setFormat("image_folder")
        .setImages(photos.toAbsolutePath().toString()).build(), classes, new PathPolicy(List.of(photos.toAbsolutePath()))).samples();
    pipeline(indexed, 1.0); // warm-up: JIT
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      pipelineOn(pool, indexed, 1.0);
      for (int r = 0; r < rounds; r++) {
        rates.get(0).add(torchvision());
        rates.get(1).add(pipeline(indexed, seconds));
        rates.get(2).add(pipelineOn(pool, indexed, seconds));
        rates.get(3).add(decodeOnly(files, "com.sun.imageio", seconds / 2));
        rates.get(4).add(decodeOnly(files, "twelvemonkeys", seconds / 2));
        out.printf(Locale.ROOT, "round %d: torchvision %.0f img/cpu-s, fleet %.0f img/cpu-s, fleet x%d %.0f img/s%n", r + 1,
            rates.get(0).get(r).perCpuSecond(), rates.get(1).get(r).perCpuSecond(), threads, rates.get(2).get(r).perSecond());
        out.flush();
      }
    } finally {
      pool.shutdownNow();
    }
    out.printf(Locale.ROOT, "%n%-30s %10s %14s%n", "median of " + rounds, "images/s", "images/cpu-s");
    Rate[] med = new Rate[names.length];
    for (int i = 0; i < names.length; i++) {
      med[i] = median(rates.get(i));
      out.printf(Locale.ROOT, "%-30s %10.0f %14.0f%n", names[i], med[i].perSecond(), med[i].perCpuSecond());
    }
    out.printf(Locale.ROOT, "fleet / torchvision per core: %.2fx (per CPU-second; wall clock, 1 thread each: %.2fx)%n",
        med[1].perCpuSecond() / med[0].perCpuSecond(), med[1].perSecond() / med[0].perSecond());
    out.printf(Locale.ROOT, "1 -> %d threads: %.2fx images/s (per round: %s)%n", threads, med[2].perSecond() / med[1].perSecond(),
        speedups(rates.get(1), rates.get(2)));
    out.printf(Locale.ROOT, "JDK ImageIO / TwelveMonkeys decoding: %.2fx per CPU-second%n",
        med[3].perCpuSecond() / med[4].perCpuSecond());
    return 0;
  }

  private static String speedups(List<Rate> one, List<Rate> many) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < one.size(); i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2fx", many.get(i).perSecond() / one.get(i).perSecond()));
    }
    return b.toString();
  }

  private static Rate median(List<Rate> rs) {
    List<Rate> sorted = new ArrayList<>(rs);
    sorted.sort(Comparator.comparingDouble(Rate::perCpuSecond));
    return sorted.get(sorted.size() / 2);
  }

  private Rate torchvision() throws IOException, InterruptedException {
    String line = run(List.of(python, script("torchvision_photos.py").toString(), photos.toString(),
        Double.toString(seconds), Integer.toString(batch)));
    // {"images": 1536, "wall_s": 4.02, "cpu_s": 3.61}
    String json = line.substring(line.lastIndexOf('{'));
    return new Rate(Long.parseLong(field(json, "images")), Double.parseDouble(field(json, "wall_s")),
        Double.parseDouble(field(json, "cpu_s")));
  }

  private static String field(String json, String name) {
    int at = json.indexOf("\"" + name + "\":") + name.length() + 3;
    int end = at;
    while (end < json.length() && ",}".indexOf(json.charAt(end)) < 0) {
      end++;
    }
    return json.substring(at, end).trim();
  }

  static Path script(String name) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("bench").resolve(name))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("bench/" + name + " not found above " + Path.of("").toAbsolutePath() + ": run from the checkout");
    }
    return dir.resolve("bench").resolve(name);
  }

  static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed:\n" + output);
    }
    return output.trim();
  }

  /**
   * The fleet's training input for one photo, as the augmenter makes it (the file read, only the crop's rows
   * decoded), normalised into {@code out} (CHW) at image {@code slot}.
   */
  private static void sample(PhotoSamples photos, InputPipeline.Training training, long index, float[][] lut, float[] out,
      int slot) {
    {
      ImageU8 img = training.apply(photos.source((int) (index % photos.size())), AugmentationPipeline.rngFor(7, "bench", 0, index));
      byte[] px = img.pixels();
      int plane = SIZE * SIZE;
      int base = slot * 3 * plane;
      for (int i = 0; i < plane; i++) {
        out[base + i] = lut[0][px[3 * i] & 0xff];
        out[base + plane + i] = lut[1][px[3 * i + 1] & 0xff];
        out[base + 2 * plane + i] = lut[2][px[3 * i + 2] & 0xff];
      }
    }
  }

  /** ToTensor + Normalize as a table: value v of channel c becomes (v / 255 - mean) / std. */
  private static float[][] normalisation() {
    Normalization n = Normalization.IMAGENET;
    float[][] lut = new float[3][256];
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        lut[c][v] = (v / 255f - n.mean()[c]) / n.std()[c];
      }
    }
    return lut;
  }

  private static InputPipeline.Training training() {
    return (InputPipeline.Training) new InputPipeline(SIZE, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, false)
        .training(new HorizontalFlip(0.5));
  }

  /** On this thread only. */
  private Rate pipeline(PhotoSamples files, double secs) {
    InputPipeline.Training training = training();
    float[][] lut = normalisation();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long cpu = mx.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    long deadline = start + (long) (secs * 1e9);
    long n = 0;
    long sink = 0;
    while (System.nanoTime() < deadline) {
      float[] out = new float[batch * 3 * SIZE * SIZE];
      for (int s = 0; s < batch; s++) {
        sample(files, training, n, lut, out, s);
        n++;
      }
      sink += Float.floatToIntBits(out[0]);
    }
    double wall = (System.nanoTime() - start) / 1e9;
    if (sink == 42) {
      System.out.print(""); // keeps the batches alive
    }
    return new Rate(n, wall, (mx.getCurrentThreadCpuTime() - cpu) / 1e9);
  }

  /** On the pool, as the augmenter runs it: a task per sample, the next batch submitted before this one is awaited. */
  private Rate pipelineOn(ExecutorService pool, PhotoSamples files, double secs) throws Exception {
    InputPipeline.Training training = training();
    float[][] lut = normalisation();
    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu = os.getProcessCpuTime();
    long start = System.nanoTime();
    long deadline = start + (long) (secs * 1e9);
    long[] next = {0};
    List<Future<?>> pending = submit(pool, files, training, lut, next);
    long n = 0;
    while (true) {
      boolean more = System.nanoTime() < deadline;
      List<Future<?>> following = more ? submit(pool, files, training, lut, next) : null;
      for (Future<?> f : pending) {
        f.get();
      }
      n += pending.size();
      if (!more) {
        break;
      }
      pending = following;
    }
    double wall = (System.nanoTime() - start) / 1e9;
    return new Rate(n, wall, (os.getProcessCpuTime() - cpu) / 1e9);
  }

  private List<Future<?>> submit(ExecutorService pool, PhotoSamples files, InputPipeline.Training training, float[][] lut,
      long[] next) {
    float[] out = new float[batch * 3 * SIZE * SIZE];
    List<Future<?>> fs = new ArrayList<>(batch);
    for (int s = 0; s < batch; s++) {
      long index = next[0]++;
      int slot = s;
      fs.add(pool.submit(() -> sample(files, training, index, lut, out, slot)));
    }
    return fs;
  }

  /** Decoding alone, with the JPEG reader whose class name contains {@code provider}, on this thread. */
  private static Rate decodeOnly(List<Path> files, String provider, double secs) throws IOException {
    byte[][] data = new byte[files.size()][];
    for (int i = 0; i < data.length; i++) {
      data[i] = Files.readAllBytes(files.get(i));
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long cpu = mx.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    long deadline = start + (long) (secs * 1e9);
    long n = 0;
    while (System.nanoTime() < deadline) {
      try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data[(int) (n % data.length)]))) {
        ImageReader reader = reader(provider);
        reader.setInput(in, true, true);
        reader.read(0);
        reader.dispose();
      }
      n++;
    }
    return new Rate(n, (System.nanoTime() - start) / 1e9, (mx.getCurrentThreadCpuTime() - cpu) / 1e9);
  }

  private static ImageReader reader(String provider) {
    for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName("jpeg"); it.hasNext(); ) {
      ImageReader r = it.next();
      if (r.getClass().getName().contains(provider)) {
        return r;
      }
    }
    throw new IllegalStateException("no JPEG reader from " + provider + " on the class path");
  }
}
