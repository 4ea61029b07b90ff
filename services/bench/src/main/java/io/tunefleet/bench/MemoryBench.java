package io.tunefleet.bench;

import io.tunefleet.common.metrics.FleetMetrics;
import io.tunefleet.ml.train.TorchThread;
import io.tunefleet.ml.train.TrainingSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `fleet bench-memory`: resident memory of the trainer's step loop over many steps (the demo model,
 * with gradient diagnostics every 50 steps as in the fleet). A native leak — an NDArray not closed per
 * step — shows as RSS growing between step 100 and the last step.
 */
@Command(name = "bench-memory", description = "Resident memory of the training loop at step 100 and at the last step.")
final class MemoryBench implements Callable<Integer> {
  @Option(names = "--steps", description = "Steps to run (default ${DEFAULT-VALUE})")
  int steps = 1000;

  @Option(names = "--json", description = "One JSON object")
  boolean json;

  @Override
  public Integer call() throws Exception {
    return TorchThread.call(this::measure); // as the trainer runs its steps, with the same malloc settings
  }

  private Integer measure() {
    List<double[]> samples = new ArrayList<>();
    try (DemoSteps demo = new DemoSteps()) {
      TrainingSession s = demo.session;
      for (int step = 1; step <= steps; step++) {
        if ((step - 1) % 100 == 0) {
          s.beginEpoch((step - 1) / 100 % 10);
        }
        s.step(demo.batch, null, step % 50 == 0);
        if (step % 100 == 0) {
          System.gc();
          samples.add(new double[] {step, FleetMetrics.residentBytes() / (1 << 20)});
          if (!json) {
            System.out.printf(Locale.ROOT, "step %5d  RSS %8.1f MiB%n", step, samples.get(samples.size() - 1)[1]);
          }
        }
      }
    }
    double first = samples.get(0)[1];
    double last = samples.get(samples.size() - 1)[1];
    double growth = (last - first) / first;
    if (json) {
      System.out.printf(Locale.ROOT, "{\"steps\":%d,\"rss_mib_step_100\":%.1f,\"rss_mib_last\":%.1f,\"growth\":%.4f}%n",
          steps, first, last, growth);
    } else {
      System.out.printf(Locale.ROOT, "RSS step 100: %.1f MiB, step %d: %.1f MiB, growth %+.2f%%%n", first, steps, last,
          100 * growth);
    }
    return 0;
  }
}
