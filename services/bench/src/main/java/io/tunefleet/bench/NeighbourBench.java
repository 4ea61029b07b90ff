package io.tunefleet.bench;

import io.tunefleet.cli.Fleet;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.ml.train.TorchThread;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * `fleet bench-neighbours`: what an idle fleet costs a training loop on the same cores. It starts `fleet up` (the
 * broker and the four services, no job) as a child process, runs the demo model's step loop here, and in turns
 * freezes the neighbour (SIGSTOP) and lets it run (SIGCONT) for the same time, so both phases see the same machine
 * state. A 2-thread OpenMP team on 2 cores stalls whenever any other thread takes one of them, so wake-ups cost
 * far more than the CPU time they use: this measures that apart from run-to-run noise, which `fleet bench` cannot.
 */
@Command(name = "bench-neighbours", description = "Step time of the training loop beside an idle fleet, frozen and running in turns.")
final class NeighbourBench implements Callable<Integer> {
  /** Steps per timed chunk: about 0.3-0.6 s of the demo model's step here. */
  static final int CHUNK = 10;

  @Spec
  CommandSpec spec;

  @Option(names = "--cycles", description = "Frozen/running cycles (default ${DEFAULT-VALUE})")
  int cycles = 12;

  @Option(names = "--phase-seconds", description = "Seconds per phase (default ${DEFAULT-VALUE})")
  int phaseSeconds = 5;

  @Option(names = "--warmup-seconds", description = "Steps before the first phase, the neighbour running (default ${DEFAULT-VALUE})")
  int warmupSeconds = 20;

  @Option(names = "--json", description = "One JSON object")
  boolean json;

  /** Per-step times of the chunks in each phase. */
  static final class PhaseTimes {
    final List<Double> frozen = new ArrayList<>();
    final List<Double> running = new ArrayList<>();

    void add(boolean neighbourRunning, double msPerStep) {
      (neighbourRunning ? running : frozen).add(msPerStep);
    }

    double penalty() {
      return median(running) / median(frozen) - 1;
    }

    static double median(List<Double> values) {
      if (values.isEmpty()) {
        throw new IllegalStateException("no chunk was timed in a phase: make --phase-seconds longer");
      }
      return Bench.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }
  }

  @Override
  public Integer call() throws Exception {
    if (cycles < 1) {
      throw new ParameterException(spec.commandLine(), "--cycles must be at least 1, was " + cycles);
    }
    if (phaseSeconds < 2) {
      throw new ParameterException(spec.commandLine(), "--phase-seconds must be at least 2 (a chunk of "
          + CHUNK + " steps, and the first chunk of a phase is left out), was " + phaseSeconds);
    }
    if (warmupSeconds < 0) {
      throw new ParameterException(spec.commandLine(), "--warmup-seconds must not be negative, was " + warmupSeconds);
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir = Files.createTempDirectory("fleet-neighbour-");
    try (Neighbour neighbour = Neighbour.start(dir)) {
      Thread hook = new Thread(neighbour::close, "neighbour-cleanup");
      Runtime.getRuntime().addShutdownHook(hook); // a Ctrl-C must not leave a frozen fleet behind
      try {
        PhaseTimes times = new PhaseTimes();
        double cores = TorchThread.call(() -> measure(neighbour, times));
        report(out, times, cores);
      } finally {
        Runtime.getRuntime().removeShutdownHook(hook);
      }
    }
    BlobStore.deleteTree(dir);
    out.flush();
    return 0;
  }

  /** Runs the phases and returns the cores the neighbour used while it ran. */
  private double measure(Neighbour neighbour, PhaseTimes times) {
    long cpuNanos = 0;
    long runningNanos = 0;
    try (DemoSteps demo = new DemoSteps()) {
      demo.session.beginEpoch(0);
      long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
      do {
        demo.session.step(demo.batch);
      } while (System.nanoTime() < warm);
      for (int c = 0; c < cycles; c++) {
        for (boolean running : new boolean[] {false, true}) {
          neighbour.signal(running ? "CONT" : "STOP");
          long start = System.nanoTime();
          long cpu = neighbour.cpuNanos();
          long end = start + TimeUnit.SECONDS.toNanos(phaseSeconds);
          boolean first = true;
          while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            for (int i = 0; i < CHUNK; i++) {
              demo.session.step(demo.batch);
            }
            if (!first) { // the first chunk of a phase straddles the signal
              times.add(running, (System.nanoTime() - t0) / 1e6 / CHUNK);
            }
            first = false;
          }
          if (running) {
            cpuNanos += neighbour.cpuNanos() - cpu;
            runningNanos += System.nanoTime() - start;
          }
        }
      }
    } finally {
      neighbour.signal("CONT");
    }
    return (double) cpuNanos / runningNanos;
  }

  private void report(PrintWriter out, PhaseTimes times, double cores) {
    double frozen = PhaseTimes.median(times.frozen);
    double running = PhaseTimes.median(times.running);
    if (json) {
      out.printf(Locale.ROOT, "{\"cycles\":%d,\"phase_seconds\":%d,\"chunks_frozen\":%d,\"chunks_running\":%d,"
              + "\"ms_per_step_frozen\":%.3f,\"ms_per_step_running\":%.3f,\"penalty\":%.4f,\"neighbour_cores\":%.4f}%n",
          cycles, phaseSeconds, times.frozen.size(), times.running.size(), frozen, running, times.penalty(), cores);
    } else {
      out.printf(Locale.ROOT, "demo model step, median of %d chunks of %d steps: %.2f ms with the idle fleet frozen%n",
          times.frozen.size(), CHUNK, frozen);
      out.printf(Locale.ROOT, "demo model step, median of %d chunks of %d steps: %.2f ms with it running (%.3f cores)%n",
          times.running.size(), CHUNK, running, cores);
      out.printf(Locale.ROOT, "the idle fleet costs the step %+.1f%%%n", 100 * times.penalty());
    }
  }

  /** `fleet up` in a child JVM, with its embedded broker (a grandchild). */
  static final class Neighbour implements AutoCloseable {
    private final Process process;

    private Neighbour(Process process) {
      this.process = process;
    }

    /** Starts it with its blob store and broker under {@code dir}, and its log in {@code dir/fleet-up.log}. */
    static Neighbour start(Path dir) throws IOException, InterruptedException {
      Path log = dir.resolve("fleet-up.log");
      List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx6g",
          "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), Fleet.class.getName(), "up");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().remove("FLEET_BOOTSTRAP_SERVERS"); // its own embedded broker, as `fleet up` on one machine
      pb.environment().put("FLEET_BLOB_ROOT", dir.resolve("blobs").toString()); // no job: its state is thrown away
      Neighbour n = new Neighbour(pb.start());
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (!Files.readString(log, StandardCharsets.UTF_8).contains("fleet: up.")) {
        if (!n.process.isAlive() || System.nanoTime() > deadline) {
          String tail = tail(log);
          n.close();
          throw new IllegalStateException("the idle fleet (`fleet up`) did not start"
              + (n.process.isAlive() ? " within 3 minutes" : " (exit " + n.process.exitValue() + ")")
              + "; the end of its log " + log + ":\n" + tail);
        }
        Thread.sleep(200);
      }
      return n;
    }

    private static String tail(Path log) throws IOException {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    private List<ProcessHandle> processes() {
      return Stream.concat(Stream.of(process.toHandle()), process.toHandle().descendants())
          .filter(ProcessHandle::isAlive).toList();
    }

    /** CPU time of the fleet's JVM and its broker so far. */
    long cpuNanos() {
      return processes().stream().mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
    }

    void signal(String signal) {
      List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
      processes().forEach(p -> cmd.add(Long.toString(p.pid())));
      if (cmd.size() == 2) {
        return;
      }
      try {
        Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.waitFor() != 0) {
          throw new IllegalStateException("`" + String.join(" ", cmd) + "` failed: " + output.strip());
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot run `" + String.join(" ", cmd) + "`", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while signalling the idle fleet", e);
      }
    }

    /** Lets it run again, then stops it as Ctrl-C would (its broker with it); kills what is left after a minute. */
    @Override
    public synchronized void close() {
      if (!process.isAlive()) {
        return;
      }
      List<ProcessHandle> all = processes();
      try {
        signal("CONT");
      } catch (IllegalStateException e) {
        // it may be exiting already: the kill below still applies
      }
      process.destroy();
      try {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
        for (ProcessHandle p : all) {
          if (p.isAlive() && !p.onExit().thenApply(x -> true).completeOnTimeout(false, 30, TimeUnit.SECONDS).join()) {
            p.destroyForcibly();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        all.forEach(ProcessHandle::destroyForcibly);
      }
    }
  }
}
