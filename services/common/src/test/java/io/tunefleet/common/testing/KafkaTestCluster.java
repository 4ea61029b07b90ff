package io.tunefleet.common.testing;

import io.tunefleet.local.EmbeddedKafka;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka broker for integration tests: Testcontainers' Kafka when a Docker engine is available,
 * the embedded KRaft broker (Kafka's own jars in a child JVM) otherwise. Tests see only
 * {@link #bootstrapServers()}, so both paths run the same test code.
 */
public final class KafkaTestCluster implements AutoCloseable {
  private final EmbeddedKafka embedded;
  private final KafkaContainer container;

  private KafkaTestCluster(EmbeddedKafka embedded, KafkaContainer container) {
    this.embedded = embedded;
    this.container = container;
  }

  public static KafkaTestCluster start(int partitions) {
    if (!Boolean.getBoolean("fleet.test.embeddedOnly") && dockerAvailable()) {
      KafkaContainer c = new KafkaContainer("apache/kafka:4.1.1")
          .withEnv("KAFKA_NUM_PARTITIONS", Integer.toString(partitions))
          .withEnv("KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS", "10000")
          .withEnv("KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS", "6000")
          .withEnv("KAFKA_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS", "2000")
          .withEnv("KAFKA_GROUP_CONSUMER_MIN_HEARTBEAT_INTERVAL_MS", "1000");
      c.start();
      return new KafkaTestCluster(null, c);
    }
    return new KafkaTestCluster(EmbeddedKafka.temporary(partitions).start(), null);
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  public String bootstrapServers() {
    return embedded != null ? embedded.bootstrapServers() : container.getBootstrapServers();
  }

  /** Which broker backs this cluster, for test logs. */
  public String kind() {
    return embedded != null ? "embedded KRaft broker" : "Testcontainers apache/kafka";
  }

  /** The embedded broker, for fault tests that stop and restart it (null under Testcontainers). */
  public EmbeddedKafka embedded() {
    return embedded;
  }

  @Override
  public void close() {
    if (embedded != null) {
      embedded.close();
    }
    if (container != null) {
      container.stop();
    }
  }
}
