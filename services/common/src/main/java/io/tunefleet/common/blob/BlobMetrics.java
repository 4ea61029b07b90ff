package io.tunefleet.common.blob;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The blob store's meters: bytes read and written ({@code fleet_blob_read_bytes_total},
 * {@code fleet_blob_written_bytes_total}, tag {@code store} = folder or s3) and, for S3, every request's
 * latency by operation and outcome ({@code fleet_blob_s3_requests_seconds{operation, outcome}}: its count
 * is the requests, {@code outcome!="ok"} the errors). Tags are low-cardinality: never a key or a job.
 */
final class BlobMetrics {
  /** Outcome of an S3 request: ok, not_found (an expected answer to exists/read), denied, error. */
  enum Outcome { OK, NOT_FOUND, DENIED, ERROR }

  private final MeterRegistry registry;
  private final Counter readBytes;
  private final Counter writtenBytes;
  private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

  BlobMetrics(MeterRegistry registry, String store) {
    this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    this.readBytes = Counter.builder("fleet.blob.read").baseUnit("bytes").tag("store", store)
        .description("Bytes read from the blob store (hash-checked reads and dataset streams)").register(this.registry);
    this.writtenBytes = Counter.builder("fleet.blob.written").baseUnit("bytes").tag("store", store)
        .description("Bytes written to the blob store").register(this.registry);
  }

  void read(long bytes) {
    readBytes.increment(bytes);
  }

  void written(long bytes) {
    writtenBytes.increment(bytes);
  }

  /** Records one S3 request of {@code operation} (GetObject, PutObject, …) that took {@code nanos}. */
  void request(String operation, Outcome outcome, long nanos) {
    String outcomeTag = outcome.name().toLowerCase(java.util.Locale.ROOT);
    timers.computeIfAbsent(operation + "/" + outcomeTag, k -> Timer.builder("fleet.blob.s3.requests")
        .description("S3 requests of the blob store, by operation and outcome (count = requests; outcome != ok = errors)")
        .tag("operation", operation).tag("outcome", outcomeTag).register(registry))
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  MeterRegistry registry() {
    return registry;
  }
}
