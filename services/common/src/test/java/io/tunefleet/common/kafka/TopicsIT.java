package io.tunefleet.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.KafkaTestCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class TopicsIT {
  @Test
  void createsCoPartitionedTopicsAndCarriesRecords() throws Exception {
    try (KafkaTestCluster kafka = KafkaTestCluster.start(6)) {
      FleetConfig config = FleetConfig.load(new JsonObject().put("FLEET_BOOTSTRAP_SERVERS", kafka.bootstrapServers())
          .put("FLEET_TOPIC_PREFIX", "t1").put("FLEET_PARTITIONS", 4), Map.of());
      Topics topics = new Topics(config);
      topics.create(config);
      topics.create(config); // idempotent
      try (Admin admin = Admin.create(KafkaClients.common(config))) {
        admin.describeTopics(topics.all()).allTopicNames().get(10, TimeUnit.SECONDS)
            .forEach((name, d) -> assertEquals(4, d.partitions().size(), name));
      }
      try (FleetProducer producer = new FleetProducer(config, "p")) {
        producer.kafka().send(new ProducerRecord<>(topics.requests, "job-1", new byte[] {42})).get();
      }
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(config, "g", "c"))) {
        consumer.subscribe(List.of(topics.requests));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int seen = 0;
        while (seen == 0 && System.nanoTime() < deadline) {
          seen += consumer.poll(Duration.ofMillis(500)).count();
        }
        assertEquals(1, seen);
      }
    }
  }
}
