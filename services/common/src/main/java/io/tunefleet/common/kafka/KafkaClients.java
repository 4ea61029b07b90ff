package io.tunefleet.common.kafka;

import io.tunefleet.common.config.FleetConfig;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Kafka client properties for the fleet: one place, so every service connects the same way. */
public final class KafkaClients {
  private KafkaClients() {}

  public static Properties common(FleetConfig config) {
    if (config.bootstrapServers().isBlank()) {
      throw new IllegalStateException("FLEET_BOOTSTRAP_SERVERS is not set (local mode sets it to the embedded broker)");
    }
    Properties p = config.kafkaClientProperties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    return p;
  }

  /** An idempotent producer: a retried send never duplicates a record. */
  public static Properties producer(FleetConfig config, String clientId) {
    Properties p = common(config);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /**
   * A consumer that commits by hand. By default it uses the classic group protocol with the fleet's own
   * {@link CoPartitionedStickyAssignor}: co-partitioned (one member gets the same partition number of every
   * topic it subscribes to, so a job's records meet on one replica), sticky (a replica joining or leaving moves
   * the fewest partitions that keep the group balanced) and cooperative (only the partitions that move are
   * revoked; the jobs on all the others go on training undisturbed). Session 10 s, heartbeat 2 s.
   *
   * <p>{@code FLEET_KAFKA_GROUP_PROTOCOL=consumer} selects Kafka's consumer rebalance protocol (KIP-848, Kafka
   * 4.0 and later) with the broker's range assignor instead: co-partitioned and incremental as well, but the
   * range assignor lays the partitions out over the members in order and is not sticky, so a change moves
   * more jobs (in the tests, one or two of three partitions where one would do). The broker then sets the
   * session ({@code group.consumer.session.timeout.ms}: 10 s in the fleet's brokers, Kafka's default 45 s).
   */
  public static Properties consumer(FleetConfig config, String groupId, String clientId) {
    Properties p = common(config);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
    p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
    String protocol = p.getProperty(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CLASSIC.name());
    if (GroupProtocol.CONSUMER.name().equalsIgnoreCase(protocol)) {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CONSUMER.name().toLowerCase(Locale.ROOT));
      p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, "range");
    } else {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CLASSIC.name().toLowerCase(Locale.ROOT));
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CoPartitionedStickyAssignor.class.getName());
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
    }
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }
}
