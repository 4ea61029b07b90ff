package io.tunefleet.training;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One job's training meters (Micrometer's binder pattern): step and data-wait timers, step, image and checkpoint
 * counters, and gauges for loss, accuracy, epoch, stage, learning rates, throughput and gradient diagnostics, all
 * tagged with the job id. {@link #close()} removes every meter it registered.
 */
final class JobMeters implements MeterBinder, AutoCloseable {
  private final String prefix;
  private final Tags tags;
  private final List<Meter> registered = new CopyOnWriteArrayList<>();
  /**
   * Gauge values by name and tags. A job handed back to this replica gets a new run but keeps these: registering the
   * same gauge again would leave Micrometer reading the old holder.
   */
  private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
  private MeterRegistry registry;
  private Timer step;
  private Timer dataWait;
  private Counter steps;
  private Counter images;
  private Counter checkpoints;
  // the gauges every step sets: registered once in bindTo, so a step only stores values
  private final AtomicReference<Double> loss = new AtomicReference<>(0.0);
  private final AtomicReference<Double> accuracy = new AtomicReference<>(0.0);
  private final AtomicReference<Double> epoch = new AtomicReference<>(0.0);
  private final AtomicReference<Double> stage = new AtomicReference<>(0.0);
  private final AtomicReference<Double> lrHead = new AtomicReference<>(0.0);
  private final AtomicReference<Double> lrBackbone = new AtomicReference<>(0.0);
  private final AtomicReference<Double> imagesPerSecond = new AtomicReference<>(0.0);

  JobMeters(String prefix, String job) {
    this.prefix = prefix;
    this.tags = Tags.of("job_id", job);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    this.registry = registry;
    step = keep(Timer.builder(prefix + ".step").description("Compute time of one optimizer step").tags(tags)
        .register(registry));
    dataWait = keep(Timer.builder(prefix + ".data.wait").description("Time a step waited for its batch").tags(tags)
        .register(registry));
    steps = keep(Counter.builder(prefix + ".steps").description("Optimizer steps applied").tags(tags).register(registry));
    images = keep(Counter.builder(prefix + ".images").description("Images trained on").tags(tags).register(registry));
    checkpoints = keep(Counter.builder(prefix + ".checkpoints").description("Epoch checkpoints written and announced")
        .tags(tags).register(registry));
    register("loss", Tags.empty(), loss, "Training loss of the last step");
    register("accuracy", Tags.empty(), accuracy, "Training accuracy of the last batch");
    register("epoch", Tags.empty(), epoch, "Epoch progress (fractional)");
    register("unfreeze.stage", Tags.empty(), stage, "Backbone stages unfrozen");
    register("learning.rate", Tags.of("group", "head"), lrHead, "Learning rate per parameter group");
    register("learning.rate", Tags.of("group", "backbone"), lrBackbone, "Learning rate per parameter group");
    register("images.per.second", Tags.empty(), imagesPerSecond, "Training throughput of the current epoch (compute only)");
  }

  private void register(String name, Tags extra, AtomicReference<Double> holder, String description) {
    keep(Gauge.builder(prefix + "." + name, holder, AtomicReference::get).description(description).tags(tags.and(extra))
        .register(registry));
  }

  void recordStep(StepListener.Step s) {
    JobRun run = s.run();
    if (s.dataWaitNanos() > 0) {
      dataWait.record(s.dataWaitNanos(), TimeUnit.NANOSECONDS);
    }
    step.record(s.result().nanos(), TimeUnit.NANOSECONDS);
    steps.increment();
    images.increment(s.result().samples());
    loss.set((double) s.result().loss());
    accuracy.set(s.result().accuracy());
    epoch.set(s.ref().getEpoch() + (double) run.next / s.ref().getStepsInEpoch());
    stage.set((double) run.session.unfreezeStage());
    Map<String, Double> lrs = run.session.learningRates();
    lrHead.set(lrs.get("head"));
    lrBackbone.set(lrs.get("layer4"));
    imagesPerSecond.set(run.imagesPerSecond());
  }

  void recordCheckpoint() {
    checkpoints.increment();
    gauge("last.checkpoint.timestamp.seconds", Tags.empty(), System.currentTimeMillis() / 1e3,
        "When the job's last checkpoint was announced (Unix seconds)");
  }

  /**
   * Sets a gauge of this job that only some steps set (gradient diagnostics, the last checkpoint's time), registering
   * it on first use; {@code extra} tags come on top of the job id.
   */
  void gauge(String name, Tags extra, double value, String description) {
    gauges.computeIfAbsent(name + extra, k -> {
      AtomicReference<Double> holder = new AtomicReference<>(value);
      register(name, extra, holder, description);
      return holder;
    }).set(value);
  }

  private <M extends Meter> M keep(M meter) {
    registered.add(meter);
    return meter;
  }

  @Override
  public void close() {
    registered.forEach(registry::remove);
    registered.clear();
    gauges.clear();
  }
}
