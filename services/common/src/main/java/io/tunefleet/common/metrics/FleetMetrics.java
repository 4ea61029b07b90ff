package io.tunefleet.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * A service's meter registry. Naming convention: {@code fleet.<service>.<what>} (Prometheus:
 * {@code fleet_<service>_<what>}), tags {@code service}, {@code replica} (Prometheus adds its own {@code instance}) and, for job-scoped meters,
 * {@code job} — never a batch or step id (unbounded cardinality).
 */
public final class FleetMetrics {
  private FleetMetrics() {}

  public static PrometheusMeterRegistry create(String service, String instance) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("service", service, "replica", instance);
    bindJvm(registry);
    return registry;
  }

  @SuppressWarnings("resource")
  private static void bindJvm(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
    // libtorch's memory lives outside the JVM heap: the resident set size is what shows a native leak
    io.micrometer.core.instrument.Gauge.builder("process.resident.memory", FleetMetrics::residentBytes)
        .description("Resident set size of the process (JVM heap, native memory, libtorch)").baseUnit("bytes")
        .register(registry);
  }

  /** VmRSS from /proc/self/status (Linux); -1 elsewhere. */
  public static double residentBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }
}
