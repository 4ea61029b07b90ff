package io.tunefleet.common.kafka;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.TopicPartition;

/**
 * The fleet's partition assignor for the classic group protocol: co-partitioned, sticky and cooperative.
 *
 * <ul>
 *   <li><b>Co-partitioned.</b> It hands out partition <em>numbers</em>: the member that gets number
 *       <i>p</i> gets partition <i>p</i> of every topic it subscribes to, so a job's records (keyed by job
 *       id, same partition everywhere) meet on one replica.</li>
 *   <li><b>Sticky.</b> Every member keeps the numbers it owns up to its fair share (⌊N/M⌋, or one more for
 *       the first N mod M members, those owning the most); only the surplus and the numbers nobody owns
 *       move, to the members below their share. A replica joining or leaving moves the fewest numbers that
 *       keep the group balanced.</li>
 *   <li><b>Cooperative.</b> A number taken from one member is not given to another in the same round: its
 *       owner gives it up first, and Kafka's cooperative protocol (KIP-429) then runs a second round in which
 *       it goes to its new owner. Members keep working on everything they keep throughout.</li>
 * </ul>
 *
 * <p>Two members claiming the same number (one of them from an older generation, after it was fenced) are
 * resolved in favour of the newest generation, then of the member claiming more of its partitions.
 */
public final class CoPartitionedStickyAssignor implements ConsumerPartitionAssignor {
  public static final String NAME = "fleet-copartitioned-sticky";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<RebalanceProtocol> supportedProtocols() {
    return List.of(RebalanceProtocol.COOPERATIVE);
  }

  @Override
  public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
    Map<String, Subscription> members = new TreeMap<>(groupSubscription.groupSubscription());
    Map<String, Integer> partitionCount = new TreeMap<>();
    members.values().forEach(s -> s.topics().forEach(t -> {
      Integer n = metadata.partitionCountForTopic(t);
      if (n != null) {
        partitionCount.put(t, n);
      }
    }));
    int numbers = partitionCount.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    Map<String, TreeSet<Integer>> target = assignNumbers(members, numbers);

    Map<String, Assignment> out = new HashMap<>();
    target.forEach((member, owned) -> {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : new TreeSet<>(members.get(member).topics())) {
        Integer count = partitionCount.get(topic);
        for (int p : owned) {
          if (count != null && p < count) {
            partitions.add(new TopicPartition(topic, p));
          }
        }
      }
      out.put(member, new Assignment(partitions));
    });
    return new GroupAssignment(out);
  }

  /** The partition numbers each member gets this round (by member id, every member present). */
  static Map<String, TreeSet<Integer>> assignNumbers(Map<String, Subscription> members, int numbers) {
    // who owns each number now: the newest generation's claim wins, then the member claiming more of it
    Map<Integer, String> owner = new HashMap<>();
    Map<Integer, int[]> ownerRank = new HashMap<>();
    members.forEach((member, s) -> {
      Map<Integer, Integer> claims = new HashMap<>();
      s.ownedPartitions().forEach(tp -> claims.merge(tp.partition(), 1, Integer::sum));
      int generation = s.generationId().orElse(-1);
      claims.forEach((p, topics) -> {
        if (p >= numbers) {
          return;
        }
        int[] rank = {generation, topics};
        int[] best = ownerRank.get(p);
        if (best == null || rank[0] > best[0] || (rank[0] == best[0] && rank[1] > best[1])) {
          owner.put(p, member);
          ownerRank.put(p, rank);
        }
      });
    });
    Map<String, TreeSet<Integer>> current = new TreeMap<>();
    members.keySet().forEach(m -> current.put(m, new TreeSet<>()));
    owner.forEach((p, m) -> current.get(m).add(p));

    // fair shares: the members owning the most get the extra numbers, so that fewer move
    int m = members.size();
    List<String> byOwned = new ArrayList<>(members.keySet());
    byOwned.sort(Comparator.comparing((String id) -> -current.get(id).size()).thenComparing(id -> id));
    Map<String, Integer> share = new HashMap<>();
    for (int i = 0; i < byOwned.size(); i++) {
      share.put(byOwned.get(i), numbers / m + (i < numbers % m ? 1 : 0));
    }

    Map<String, TreeSet<Integer>> next = new TreeMap<>();
    TreeSet<Integer> free = new TreeSet<>();
    for (int p = 0; p < numbers; p++) {
      free.add(p);
    }
    for (String member : members.keySet()) {
      TreeSet<Integer> kept = new TreeSet<>();
      for (int p : current.get(member)) {
        if (kept.size() < share.get(member)) {
          kept.add(p);
          free.remove(p);
        }
      }
      next.put(member, kept);
    }
    // numbers given up this round stay unassigned until their owner has revoked them (cooperative)
    TreeSet<Integer> releasedNow = new TreeSet<>();
    owner.forEach((p, member) -> {
      if (!next.get(member).contains(p)) {
        releasedNow.add(p);
      }
    });
    free.removeAll(releasedNow);
    for (String member : byOwned) {
      TreeSet<Integer> mine = next.get(member);
      while (mine.size() < share.get(member) && !free.isEmpty()) {
        mine.add(free.pollFirst());
      }
    }
    return next;
  }

}
