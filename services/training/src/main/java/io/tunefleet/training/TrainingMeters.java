package io.tunefleet.training;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The training loop's meters: a {@link JobMeters} binder per job, kept a while after the job's phase ends (for
 * dashboards and the last scrapes), then removed so that job tags do not pile up. Owns its clean-up scheduler.
 */
final class TrainingMeters implements StepListener, AutoCloseable {
  static final Duration RETENTION = Duration.ofMinutes(10);

  private final MeterRegistry registry;
  private final String prefix;
  private final Map<String, JobMeters> jobs = new ConcurrentHashMap<>();
  private final ScheduledExecutorService cleanup = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "fleet-meter-cleanup");
    t.setDaemon(true);
    return t;
  });

  TrainingMeters(MeterRegistry registry, String prefix) {
    this.registry = registry;
    this.prefix = prefix;
  }

  JobMeters of(String job) {
    return jobs.computeIfAbsent(job, j -> {
      JobMeters meters = new JobMeters(prefix, j);
      meters.bindTo(registry);
      return meters;
    });
  }

  @Override
  public void onStep(Step step) {
    of(step.run().job).recordStep(step);
  }

  @Override
  public void onCheckpoint(JobRun run, io.tunefleet.proto.v1.Checkpoint event) {
    of(run.job).recordCheckpoint();
  }

  /** The job's phase is over here: its series stay for {@link #RETENTION}, then go. */
  void removeLater(String job) {
    cleanup.schedule(() -> {
      JobMeters meters = jobs.remove(job);
      if (meters != null) {
        meters.close();
      }
    }, RETENTION.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    cleanup.shutdownNow();
  }
}
