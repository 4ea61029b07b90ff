package io.tunefleet.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CoPartitionedStickyAssignorTest {
  static final List<String> TOPICS = List.of("f.batches", "f.evaluations");
  final CoPartitionedStickyAssignor assignor = new CoPartitionedStickyAssignor();

  static Cluster cluster(int partitions) {
    Node node = new Node(0, "localhost", 9092);
    List<PartitionInfo> infos = new ArrayList<>();
    for (String t : TOPICS) {
      for (int p = 0; p < partitions; p++) {
        infos.add(new PartitionInfo(t, p, node, new Node[] {node}, new Node[] {node}));
      }
    }
    return new Cluster("c", List.of(node), infos, Set.of(), Set.of());
  }

  /** One round as the group leader runs it: each member reports what it owns now. */
  Map<String, Set<Integer>> round(Cluster cluster, Map<String, Set<Integer>> owned) {
    Map<String, Subscription> subs = new HashMap<>();
    owned.forEach((member, numbers) -> {
      List<TopicPartition> tps = new ArrayList<>();
      numbers.forEach(p -> TOPICS.forEach(t -> tps.add(new TopicPartition(t, p))));
      subs.put(member, new Subscription(TOPICS, ByteBuffer.allocate(0), tps, 7, Optional.empty()));
    });
    Map<String, Assignment> result = assignor.assign(cluster, new GroupSubscription(subs)).groupAssignment();
    Map<String, Set<Integer>> numbers = new TreeMap<>();
    result.forEach((member, a) -> {
      Set<Integer> batches = new TreeSet<>();
      Set<Integer> evaluations = new TreeSet<>();
      for (TopicPartition tp : a.partitions()) {
        (tp.topic().equals("f.batches") ? batches : evaluations).add(tp.partition());
      }
      assertEquals(batches, evaluations, member + " must own the same numbers of every topic: " + a.partitions());
      numbers.put(member, batches);
    });
    // cooperative: nothing taken from one member is given to another in the same round
    owned.forEach((from, had) -> had.forEach(p -> {
      if (!numbers.get(from).contains(p)) {
        numbers.forEach((to, got) -> assertTrue(to.equals(from) || !got.contains(p) || owned.get(to).contains(p),
            p + " moved from " + from + " to " + to + " in one round"));
      }
    }));
    return numbers;
  }

  /** Rounds until nothing is revoked any more (what the cooperative protocol does), counting moves. */
  Map<String, Set<Integer>> settle(Cluster cluster, Map<String, Set<Integer>> owned) {
    Map<String, Set<Integer>> now = owned;
    for (int i = 0; i < 5; i++) {
      Map<String, Set<Integer>> next = round(cluster, now);
      boolean revoked = false;
      for (String m : now.keySet()) {
        revoked |= !next.get(m).containsAll(now.get(m));
      }
      now = next;
      if (!revoked) {
        return now;
      }
    }
    throw new AssertionError("did not settle in 5 rounds: " + now);
  }

  static Map<String, Set<Integer>> members(Object... memberThenNumbers) {
    Map<String, Set<Integer>> m = new TreeMap<>();
    for (int i = 0; i < memberThenNumbers.length; i += 2) {
      m.put((String) memberThenNumbers[i], new TreeSet<>((Set<Integer>) memberThenNumbers[i + 1]));
    }
    return m;
  }

  @Test
  void aNewMemberTakesOnlyItsShareAndTheOthersKeepTheRest() {
    Map<String, Set<Integer>> after = settle(cluster(6), members("a", Set.of(0, 1, 2), "b", Set.of(3, 4, 5), "c", Set.of()));
    assertEquals(2, after.get("c").size(), after.toString());
    assertTrue(Set.of(0, 1, 2).containsAll(after.get("a")) && after.get("a").size() == 2, after.toString());
    assertTrue(Set.of(3, 4, 5).containsAll(after.get("b")) && after.get("b").size() == 2, after.toString());
  }

  @Test
  void aMemberThatLeavesHandsOnOnlyItsOwnNumbersInOneRound() {
    Map<String, Set<Integer>> before = members("a", Set.of(0), "b", Set.of(1), "d", Set.of(2));
    Map<String, Set<Integer>> after = round(cluster(3), members("a", Set.of(0), "d", Set.of(2)));
    assertTrue(after.get("a").contains(0) && after.get("d").contains(2), after.toString());
    assertEquals(Set.of(0, 1, 2), union(after), "the leaver's number is given out at once, nobody owned it: " + before);
  }

  @Test
  void theFirstMemberGetsEverythingAndExtraMembersIdle() {
    assertEquals(Set.of(0, 1, 2), round(cluster(3), members("a", Set.of())).get("a"));
    Map<String, Set<Integer>> four = settle(cluster(3), members("a", Set.of(0, 1, 2), "b", Set.of(), "c", Set.of(), "d", Set.of()));
    assertEquals(3, four.values().stream().filter(s -> s.size() == 1).count(), four.toString());
    assertEquals(Set.of(0, 1, 2), union(four));
  }

  @Test
  void aStaleClaimLosesToTheNewestGeneration() {
    Map<String, Subscription> subs = new HashMap<>();
    subs.put("old", new Subscription(TOPICS, ByteBuffer.allocate(0),
        List.of(new TopicPartition("f.batches", 0), new TopicPartition("f.evaluations", 0)), 3, Optional.empty()));
    subs.put("new", new Subscription(TOPICS, ByteBuffer.allocate(0),
        List.of(new TopicPartition("f.batches", 0), new TopicPartition("f.evaluations", 0)), 4, Optional.empty()));
    Map<String, Assignment> a = assignor.assign(cluster(2), new GroupSubscription(subs)).groupAssignment();
    assertTrue(a.get("new").partitions().contains(new TopicPartition("f.batches", 0)), a.toString());
    assertTrue(a.get("old").partitions().stream().noneMatch(tp -> tp.partition() == 0), a.toString());
  }

  /** Random joins and leaves: always balanced, co-partitioned (checked in round) and no owned number moves needlessly. */
  @Test
  void randomScaleEventsStayBalancedAndMoveOnlyTheSurplus() {
    Random random = new Random(7);
    Map<String, Set<Integer>> owned = members("m0", Set.of());
    int next = 1;
    for (int event = 0; event < 200; event++) {
      int partitions = 6;
      if (owned.size() < 2 || (owned.size() < 9 && random.nextBoolean())) {
        owned.put("m" + next++, new TreeSet<>());
      } else {
        List<String> ids = new ArrayList<>(owned.keySet());
        owned.remove(ids.get(random.nextInt(ids.size())));
      }
      Map<String, Set<Integer>> before = new TreeMap<>(owned);
      Map<String, Set<Integer>> after = settle(cluster(partitions), owned);
      assertEquals(Set.of(0, 1, 2, 3, 4, 5), union(after), after.toString());
      int m = after.size();
      for (Map.Entry<String, Set<Integer>> e : after.entrySet()) {
        int size = e.getValue().size();
        assertTrue(size == partitions / m || size == partitions / m + 1, "balanced: " + after);
        Set<Integer> had = before.get(e.getKey());
        int keep = Math.min(had.size(), partitions / m + 1);
        Set<Integer> kept = new HashSet<>(had);
        kept.retainAll(e.getValue());
        assertTrue(kept.size() >= Math.min(keep, size), "sticky: " + before + " -> " + after);
      }
      owned = after;
    }
  }

  private static Set<Integer> union(Map<String, Set<Integer>> numbers) {
    Set<Integer> all = new TreeSet<>();
    numbers.values().forEach(all::addAll);
    return all;
  }
}
