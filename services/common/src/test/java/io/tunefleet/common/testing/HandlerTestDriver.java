package io.tunefleet.common.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.proto.v1.JobStatus;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Drives a service's {@link RecordHandler} without a broker, in the spirit of Kafka Streams' TopologyTestDriver:
 * records go in through {@link #pipe}, what the handler publishes comes out of Kafka's own {@link MockProducer}
 * (auto-completing, so {@code sendAndWait} returns), and offsets held back with {@link RecordContext#defer} are
 * tracked per job. The blob store is a real folder; datasets may be read from the blob root and the repository's
 * {@link #datasets()} folder.
 */
public final class HandlerTestDriver {
  private final MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  private final ServiceContext context;
  private final Map<String, Integer> deferred = new HashMap<>();
  private final Map<String, Long> offsets = new HashMap<>();
  private int consumed;

  public HandlerTestDriver(String service, Path blobRoot) {
    this(service, blobRoot, Map.of());
  }

  /** {@code settings}: FleetConfig keys (FLEET_…) to set for the service. */
  public HandlerTestDriver(String service, Path blobRoot, Map<String, Object> settings) {
    JsonObject overrides = new JsonObject().put(FleetConfig.BLOB_ROOT.key(), blobRoot.toString())
        .put(FleetConfig.DATA_ROOTS.key(), datasets().toString()).put(FleetConfig.DEVICE.key(), "cpu");
    settings.forEach(overrides::put);
    FleetConfig config = FleetConfig.load(overrides, Map.of());
    try {
      context = new ServiceContext(service, service + "-test", config, new io.tunefleet.common.blob.FolderBlobStore(config.blobRoot()),
          new FleetProducer(producer), new Topics(config), new SimpleMeterRegistry());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The repository's {@code datasets} folder (Fashion-MNIST, demo requests), found above the working directory. */
  public static Path datasets() {
    Path start = Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("datasets/fashion-mnist"))) {
        return p.resolve("datasets");
      }
    }
    throw new IllegalStateException("no datasets/fashion-mnist folder above " + start);
  }

  public ServiceContext context() {
    return context;
  }

  public Topics topics() {
    return context.topics();
  }

  public BlobStore blobs() {
    return context.blobs();
  }

  /** Hands one record (keyed by job id, partition 0) to the handler, as the consumer loop would, then ends the poll. */
  public void pipe(RecordHandler handler, String topic, String key, Message value) throws Exception {
    pipeRaw(handler, topic, key, value.toByteArray());
  }

  public void pipeRaw(RecordHandler handler, String topic, String key, byte[] value) throws Exception {
    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
    ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(topic, 0, offset, key, value);
    RecordContext recordContext = new RecordContext() {
      @Override
      public void defer(String jobId) {
        deferred.merge(jobId, 1, Integer::sum);
      }

      @Override
      public void release(String jobId) {
        deferred.remove(jobId);
      }
    };
    handler.runPoll(() -> {
      handler.handle(record, recordContext);
      handler.afterPoll(recordContext);
    });
  }

  /** Records of {@code jobId} whose effect is not durable yet (held back from the offset commit). */
  public int deferred(String jobId) {
    return deferred.getOrDefault(jobId, 0);
  }

  /** Every record published on {@code topic} since the last {@link #drain}, decoded, in order. */
  public <T extends Message> List<T> published(String topic, Parser<T> parser) {
    List<T> out = new ArrayList<>();
    List<ProducerRecord<String, byte[]>> history = producer.history();
    for (ProducerRecord<String, byte[]> r : history.subList(consumed, history.size())) {
      if (r.topic().equals(topic)) {
        try {
          out.add(parser.parseFrom(r.value()));
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError("not a " + parser + " on " + topic, e);
        }
      }
    }
    return out;
  }

  /** The statuses published since the last {@link #drain}. */
  public List<JobStatus> statuses() {
    return published(topics().status, JobStatus.parser());
  }

  /** Marks everything published so far as read: {@link #published} returns only what comes after. */
  public void drain() {
    consumed = producer.history().size();
  }

  /** Every record the handler published, in order, as produced (topic, key, bytes). */
  public List<ProducerRecord<String, byte[]>> history() {
    return producer.history();
  }
}
