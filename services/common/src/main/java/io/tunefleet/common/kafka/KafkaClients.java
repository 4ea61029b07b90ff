package io.tunefleet.common.kafka;

import io.tunefleet.common.config.FleetConfig;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.clients.consumer.RangeAssignor;
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
   * A consumer that commits by hand, in a group whose partitions the broker assigns with its range assignor
   * (Kafka's consumer rebalance protocol, KIP-848). With co-partitioned topics that gives one member the same
   * partition number of every topic it subscribes to, so a job's records meet on one replica. The assignment
   * is incremental: when a replica joins or leaves, only the partitions that change owner are revoked, and the
   * jobs on all the others go on training undisturbed. (The range assignor lays partitions out over the members
   * in order and is not sticky, so a change can move more partitions than the fewest possible.) The broker
   * sets the session timeout ({@code group.consumer.session.timeout.ms}: 10 s in the fleet's brokers, Kafka's
   * default is 45 s).
   *
   * <p>{@code FLEET_KAFKA_GROUP_PROTOCOL=classic} falls back to the classic protocol, for brokers older than
   * 4.0: the client's range assignor, with a 10 s session. Its rebalances are eager: every one revokes every
   * partition of the group, and every job then resumes from its last checkpoint.
   */
  public static Properties consumer(FleetConfig config, String groupId, String clientId) {
    Properties p = common(config);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
    p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
    String protocol = p.getProperty(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CONSUMER.name());
    if (GroupProtocol.CLASSIC.name().equalsIgnoreCase(protocol)) {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CLASSIC.name().toLowerCase(Locale.ROOT));
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
    } else {
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GroupProtocol.CONSUMER.name().toLowerCase(Locale.ROOT));
      p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, "range");
    }
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }
}
