package io.tunefleet.common.kafka;

import com.google.protobuf.Message;
import io.tunefleet.common.config.FleetConfig;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes fleet events (binary protobuf, keyed by job id) through one idempotent producer. Any Kafka
 * {@link Producer} will do: tests hand in Kafka's own {@code MockProducer}.
 */
public final class FleetProducer implements AutoCloseable {
  private final Producer<String, byte[]> producer;

  public FleetProducer(FleetConfig config, String clientId) {
    this(new KafkaProducer<>(KafkaClients.producer(config, clientId)));
  }

  public FleetProducer(Producer<String, byte[]> producer) {
    this.producer = producer;
  }

  public Producer<String, byte[]> kafka() {
    return producer;
  }

  public Future<RecordMetadata> send(String topic, String key, Message event) {
    return producer.send(new ProducerRecord<>(topic, key, event.toByteArray()));
  }

  public Future<RecordMetadata> sendRaw(String topic, String key, byte[] value) {
    return producer.send(new ProducerRecord<>(topic, key, value));
  }

  /** Sends and waits for the broker's acknowledgement: the event is durable when this returns. */
  public RecordMetadata sendAndWait(String topic, String key, Message event) {
    try {
      return send(topic, key, event).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing to " + topic, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot publish to " + topic + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** Waits until every record sent so far is acknowledged (called before committing offsets). */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
