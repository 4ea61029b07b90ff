package io.tunefleet.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.local.EmbeddedKafka;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How the services' consumer groups hand partitions around: a member gets the same partition numbers of every
 * topic; when a member joins or leaves, only partitions that change owner are revoked (the others' jobs go
 * on); a member beyond the partition count is ready and idle. With the default assignor the moves are also
 * the fewest possible; Kafka's consumer protocol, whose range assignor lays the partitions out over the members
 * in order, is not held to that.
 */
@Tag("integration")
class ConsumerGroupRebalanceIT {
  static final int PARTITIONS = 3;
  static final String GROUP = "rb.group";

  /** A member's view: what it owns now, and every partition it was ever told to give up. */
  static final class Member implements RecordHandler {
    final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
    final List<TopicPartition> revoked = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    String name;
    ConsumerLoop loop;

    @Override
    public String toString() {
      return name + owned + " after " + events;
    }

    @Override
    public void handle(ConsumerRecord<String, byte[]> record, RecordContext context) {}

    @Override
    public void onAssigned(Collection<TopicPartition> partitions) {
      events.add("+" + partitions);
      owned.addAll(partitions);
    }

    @Override
    public void onRevoked(Collection<TopicPartition> partitions) {
      events.add("-" + partitions);
      owned.removeAll(partitions);
      revoked.addAll(partitions);
    }

    Set<Integer> numbers(String topic) {
      return owned.stream().filter(tp -> tp.topic().equals(topic)).map(TopicPartition::partition).collect(Collectors.toSet());
    }
  }

  /**
   * Both protocols the fleet offers: the default (classic, with {@link CoPartitionedStickyAssignor}) and
   * Kafka's consumer protocol ({@code FLEET_KAFKA_GROUP_PROTOCOL=consumer}); only the first is sticky.
   */
  @ParameterizedTest
  @ValueSource(strings = {"classic", "consumer"})
  void membersGetCoPartitionedShareAndOnlyMovedPartitionsAreRevoked(String protocol) throws Exception {
    boolean sticky = protocol.equals("classic");
    try (KafkaTestCluster kafka = KafkaTestCluster.start(PARTITIONS)) {
      FleetConfig config = FleetConfig.load(new JsonObject().put("FLEET_BOOTSTRAP_SERVERS", kafka.bootstrapServers())
          .put("FLEET_TOPIC_PREFIX", "rb").put("FLEET_PARTITIONS", PARTITIONS)
          .put("FLEET_KAFKA_GROUP_PROTOCOL", protocol), Map.of());
      Topics topics = new Topics(config);
      topics.create(config);
      List<String> subscribed = List.of(topics.batches, topics.evaluations);
      List<Member> members = new ArrayList<>();
      try (FleetProducer producer = new FleetProducer(config, "rb-producer");
          Admin admin = Admin.create(KafkaClients.common(config))) {
        try {
          Member a = join(config, producer, topics, subscribed, members, "a");
          await("a owns every partition", () -> a.owned.size() == 2 * PARTITIONS);

          Member b = join(config, producer, topics, subscribed, members, "b");
          await("a and b share the partitions", () -> settled(admin, members, subscribed) && !b.owned.isEmpty());
          Set<TopicPartition> aKept = new HashSet<>(a.owned);
          assertTrue(aKept.size() >= 2, "a keeps a partition of each topic: " + aKept);
          assertEquals(2 * PARTITIONS - aKept.size(), a.revoked.size(),
              "a gives up only what moved to b, not everything: revoked " + a.revoked + ", kept " + aKept);
          if (sticky) {
            assertEquals(4, aKept.size(), "a keeps two of its three numbers, b gets one: " + members);
          }
          assertCoPartitioned(members, subscribed);

          join(config, producer, topics, subscribed, members, "c");
          join(config, producer, topics, subscribed, members, "d");
          await("four members over three partitions", () -> settled(admin, members, subscribed)
              && members.stream().filter(m -> m.owned.isEmpty()).count() == 1
              && members.stream().allMatch(m -> m.loop.ready()));
          assertCoPartitioned(members, subscribed);

          // a member leaves: whatever the broker moves, a partition that ends up with the member that had it
          // was never revoked in between (the eager protocol revokes everything and hands it back)
          Member leaving = members.stream().filter(m -> !m.owned.isEmpty()).findFirst().orElseThrow();
          Map<Member, Set<TopicPartition>> before = new HashMap<>();
          Map<Member, Integer> revokedBefore = new HashMap<>();
          members.forEach(m -> {
            before.put(m, new HashSet<>(m.owned));
            revokedBefore.put(m, m.revoked.size());
          });
          leaving.loop.close();
          members.remove(leaving);
          await("the leaver's partitions taken over", () -> settled(admin, members, subscribed));
          for (Member m : members) {
            Set<TopicPartition> kept = new HashSet<>(before.get(m));
            kept.retainAll(m.owned);
            List<TopicPartition> revokedNow = m.revoked.subList(revokedBefore.get(m), m.revoked.size());
            assertTrue(revokedNow.stream().noneMatch(kept::contains), m + " had partitions revoked that it kept: " + revokedNow);
            if (sticky) {
              assertEquals(before.get(m), kept, "sticky: a member that stays keeps all it had when another leaves: " + members);
            }
          }
          assertCoPartitioned(members, subscribed);
        } finally {
          members.forEach(m -> m.loop.close());
        }
      }
    }
  }

  /**
   * A cluster without the consumer protocol (before Kafka 4.0, or switched off as here) stops the loop with an
   * error that names the way out; with that setting the same member joins and gets its partitions.
   */
  @Test
  void aClusterWithoutTheConsumerProtocolIsReportedWithTheSettingThatFallsBack() throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.temporary(PARTITIONS)
        .brokerProperty("group.coordinator.rebalance.protocols", "classic").start()) {
      JsonObject settings = new JsonObject().put("FLEET_BOOTSTRAP_SERVERS", broker.bootstrapServers())
          .put("FLEET_TOPIC_PREFIX", "old").put("FLEET_PARTITIONS", PARTITIONS);
      FleetConfig config = FleetConfig.load(settings, Map.of());
      Topics topics = new Topics(config);
      topics.create(config);
      List<String> subscribed = List.of(topics.batches, topics.evaluations);
      List<Member> members = new ArrayList<>();
      try (FleetProducer producer = new FleetProducer(config, "old-producer")) {
        FleetConfig kip848 = FleetConfig.load(settings.copy().put("FLEET_KAFKA_GROUP_PROTOCOL", "consumer"), Map.of());
        Member refused = join(kip848, producer, topics, subscribed, members, "refused");
        await("the loop to stop", () -> !refused.loop.alive());
        String reason = refused.loop.failure().getMessage();
        assertTrue(reason.contains("consumer rebalance protocol") && reason.contains("FLEET_KAFKA_GROUP_PROTOCOL=classic"),
            reason);
        refused.loop.close();
        members.clear();

        Member joined = join(config, producer, topics, subscribed, members, "classic");
        try {
          await("the classic member owns every partition", () -> joined.owned.size() == 2 * PARTITIONS && joined.loop.ready());
        } finally {
          joined.loop.close();
        }
      }
    }
  }

  private static Member join(FleetConfig config, FleetProducer producer, Topics topics, List<String> subscribed,
      List<Member> members, String name) {
    Member m = new Member();
    m.name = name;
    m.loop = new ConsumerLoop(config, "rb-" + name, GROUP, subscribed, m, producer, topics.deadLetter,
        new SimpleMeterRegistry(), "rb-" + name);
    m.loop.start();
    members.add(m);
    return m;
  }

  /**
   * The broker says the group is stable (every member has reconciled to its target assignment, none is still
   * to give a partition up) with these members, and every partition of every topic is owned by exactly one.
   */
  private static boolean settled(Admin admin, List<Member> members, List<String> subscribed) {
    try {
      ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get(10, TimeUnit.SECONDS).get(GROUP);
      if (group.groupState() != GroupState.STABLE || group.members().size() != members.size()) {
        return false;
      }
    } catch (Exception e) {
      return false;
    }
    List<TopicPartition> all = members.stream().flatMap(m -> m.owned.stream()).toList();
    return all.size() == subscribed.size() * PARTITIONS && new HashSet<>(all).size() == all.size();
  }

  /** Each member owns the same partition numbers of every topic. */
  private static void assertCoPartitioned(List<Member> members, List<String> subscribed) {
    for (Member m : members) {
      assertEquals(m.numbers(subscribed.get(0)), m.numbers(subscribed.get(1)), "co-partitioned: " + m.owned);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
