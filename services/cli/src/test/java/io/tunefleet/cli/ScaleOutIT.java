package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainer replicas really share the work: six jobs through a fleet with three trainer processes (each job owned by
 * one replica, ownership spread over the replicas; optionally compared with one trainer), and a fleet whose
 * trainers are scaled up and down while jobs run, losing and doubling no step. Prints jobs/minute.
 */
@Tag("integration")
class ScaleOutIT {
  static final int PARTITIONS = 3;
  static final int JOBS = 6;
  static KafkaTestCluster kafka;
  static final Map<String, String> RESULTS = new TreeMap<>();

  /** Each trainer process gets one libtorch thread (one core) in both fleets: a comparison of replicas, not threads. */
  static final List<String> ONE_CORE = ProcessFleetSupport.ONE_CORE;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  @AfterAll
  static void report() {
    RESULTS.forEach((k, v) -> System.out.println("scale-out | " + k + " | " + v));
  }

  /** Six job ids, two on each partition, so that three replicas can each own two. */
  static List<String> jobIds(String prefix) {
    Map<Integer, List<String>> byPartition = new TreeMap<>();
    for (int i = 0; byPartition.values().stream().mapToInt(List::size).sum() < JOBS; i++) {
      String id = prefix + "-" + i;
      List<String> on = byPartition.computeIfAbsent(FaultJobsSupport.partitionOf(id, PARTITIONS), p -> new ArrayList<>());
      if (on.size() < JOBS / PARTITIONS) {
        on.add(id);
      }
    }
    return byPartition.values().stream().flatMap(List::stream).toList();
  }

  /** A small teacher-only job: distillation, done by the one distiller, would only blur the trainers' share. */
  static TrainingRequest job(String id) {
    return FleetTestSupport.smallJob(id, 60).toBuilder().setDistillation(Distillation.newBuilder().setEnabled(false)).build();
  }

  /**
   * The suite runs the three-trainer fleet, what the test is about; {@code -Dfleet.scaleout.compare=true} also runs the
   * same jobs through one trainer first and prints the speed-up (BENCHMARKS.md, "Scale-out"), three more minutes.
   */
  @Test
  void threeTrainersShareSixJobsEachOwnedByOneReplica(@TempDir Path oneRoot, @TempDir Path threeRoot) throws Exception {
    double one = Boolean.getBoolean("fleet.scaleout.compare") ? run(oneRoot, 1, "one") : 0;
    double three = run(threeRoot, 3, "three");
    if (one > 0) {
      RESULTS.put("speed-up 3 vs 1 trainer processes", String.format(Locale.ROOT, "%.2fx", three / one));
    }
  }

  /** Runs the six jobs through a fleet with {@code trainers} trainer processes; returns jobs per minute. */
  private static double run(Path blobRoot, int trainers, String name) throws Exception {
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, PARTITIONS)) {
      String prefix = fleet.prefix() + "-trainer-";
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < trainers; i++) {
        ids.add(fleet.spawn("trainer", prefix + i, ONE_CORE).instanceId);
      }
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.awaitGroupMembers("trainer", prefix, ids, Duration.ofMinutes(2));
      assertEquals(trainers, fleet.assignment("trainer").entrySet().stream()
          .filter(e -> e.getKey().startsWith(prefix) && !e.getValue().isEmpty()).count(), "every replica owns partitions");
      List<String> jobs = jobIds(name);
      long start = System.nanoTime();
      for (String id : jobs) {
        fleet.client().submit(job(id));
      }
      for (String id : jobs) {
        JobWatcher.Outcome o = new JobWatcher(fleet.client(), System.out).watch(id, Duration.ofMinutes(3));
        assertTrue(o.succeeded(), id + ": " + o.lastStatus());
      }
      double minutes = (System.nanoTime() - start) / 60e9;
      Map<String, List<String>> owners = new LinkedHashMap<>();
      for (String id : jobs) {
        JobEventsSupport events = JobEventsSupport.read(fleet.client(), id);
        events.assertStepsAppliedExactlyOnce(Phase.TRAIN, 2);
        events.assertOneVerdictPerCheckpoint();
        List<String> o = events.ownersInOrder(JobStatus.State.TRAINING);
        assertEquals(1, o.size(), id + " must be trained by one replica (no rebalance happened): " + o);
        owners.put(id, o);
      }
      Set<String> used = new HashSet<>();
      owners.values().forEach(used::addAll);
      if (trainers > 1) {
        assertTrue(used.size() >= 2, "the jobs must be spread over the replicas: " + owners);
      }
      double perMinute = jobs.size() / minutes;
      RESULTS.put(trainers + " trainer process(es)", String.format(Locale.ROOT,
          "%d jobs in %.1f s = %.1f jobs/min; jobs per replica %s", jobs.size(), minutes * 60, perMinute, countByOwner(owners)));
      return perMinute;
    }
  }

  @Test
  void aReplicaAddedAndOneRemovedMidRunLoseAndDoubleNoStep(@TempDir Path blobRoot) throws Exception {
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, PARTITIONS)) {
      String prefix = fleet.prefix() + "-trainer-";
      ServiceProcess t0 = fleet.spawn("trainer", prefix + "0", ONE_CORE);
      ServiceProcess t1 = fleet.spawn("trainer", prefix + "1", ONE_CORE);
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.awaitGroupMembers("trainer", prefix, Set.of(t0.instanceId, t1.instanceId), Duration.ofMinutes(2));
      FleetClient client = fleet.client();
      List<String> jobs = jobIds("elastic");
      for (String id : jobs) {
        // long enough (3 epochs of 480 images per class) that jobs still train while replicas come and go
        client.submit(FaultJobsSupport.faultJob(id, 3, 0, 480));
      }
      // scale up once a job on each of the three partitions trains
      ProcessFleetSupport.await("three jobs training", Duration.ofMinutes(2),
          () -> {
            try {
              return inState(client, jobs, JobStatus.State.TRAINING).size() >= PARTITIONS;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      Set<String> trainingAtScaleUp = inState(client, jobs, JobStatus.State.TRAINING);
      Map<Integer, String> ownersBefore = partitionOwners(fleet.assignment("trainer"));
      ServiceProcess t2 = fleet.spawn("trainer", prefix + "2", ONE_CORE);
      fleet.awaitGroupMembers("trainer", prefix, Set.of(t0.instanceId, t1.instanceId, t2.instanceId), Duration.ofMinutes(2));
      Map<Integer, String> ownersAfter = partitionOwners(fleet.assignment("trainer"));
      System.out.printf("scale-up: %d of %d jobs trained before the third replica joined; partition owners %s -> %s%n",
          trainingAtScaleUp.size(), jobs.size(), ownersBefore, ownersAfter);
      long moved = ownersAfter.entrySet().stream().filter(e -> !e.getValue().equals(ownersBefore.get(e.getKey()))).count();
      assertEquals(1, moved, "sticky: 2 -> 3 replicas over 3 partitions moves exactly one: " + ownersBefore + " -> " + ownersAfter);
      Set<String> finishedAtScaleUp = inState(client, jobs, JobStatus.State.FINISHED);
      trainingAtScaleUp.removeAll(finishedAtScaleUp);
      // scale down: the replica that owns the first job leaves (SIGTERM), as `kubectl scale` would make it
      Thread.sleep(2000);
      Set<String> finishedAtScaleDown = inState(client, jobs, JobStatus.State.FINISHED);
      Map<String, Set<org.apache.kafka.common.TopicPartition>> owned = fleet.assignment("trainer");
      int p0 = FaultJobsSupport.partitionOf(jobs.get(0), PARTITIONS);
      ServiceProcess leaving = List.of(t0, t1, t2).stream().filter(t -> owned.getOrDefault(t.instanceId, Set.of()).stream()
          .anyMatch(tp -> tp.partition() == p0)).findFirst().orElse(t0);
      leaving.terminate(Duration.ofSeconds(30));
      assertTrue(finishedAtScaleDown.size() < jobs.size(), "the replicas must change while jobs still run");

      for (String id : jobs) {
        JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(id, Duration.ofMinutes(3));
        assertTrue(o.succeeded(), id + ": " + o.lastStatus());
      }
      Map<String, List<String>> owners = new LinkedHashMap<>();
      Map<String, Long> takeUps = new LinkedHashMap<>();
      for (String id : jobs) {
        JobEventsSupport events = JobEventsSupport.read(client, id);
        events.assertStepsAppliedExactlyOnce(Phase.TRAIN, 3);
        events.assertOneVerdictPerCheckpoint();
        assertEquals(List.of(), events.deadLetters, id);
        owners.put(id, events.ownersInOrder(JobStatus.State.TRAINING));
        takeUps.put(id, events.takeUps(JobStatus.State.TRAINING));
      }
      // rebalances are incremental: a job whose partition stayed put trained on undisturbed through both,
      // taken up once; a job that moved was taken up once more for each move
      for (String id : jobs) {
        assertEquals(owners.get(id).size(), takeUps.get(id), id + " must be taken up once by each of its owners "
            + "(a rebalance that left it where it was must not restart it): " + owners + ", take-ups " + takeUps);
      }
      // and the check above was not vacuous: some job trained through the scale-up on a partition that stayed put
      assertTrue(trainingAtScaleUp.stream().map(id -> FaultJobsSupport.partitionOf(id, PARTITIONS))
          .anyMatch(p -> ownersBefore.get(p) != null && ownersBefore.get(p).equals(ownersAfter.get(p))),
          "some job must train through the scale-up on a partition that keeps its replica: training " + trainingAtScaleUp
          + ", partition owners " + ownersBefore + " -> " + ownersAfter);
      RESULTS.put("elastic (2 -> 3 -> 2 trainers)", String.format(Locale.ROOT,
          "jobs finished when scaled up: %d, when scaled down: %d; owners per job in order: %s; take-ups: %s",
          finishedAtScaleUp.size(), finishedAtScaleDown.size(), owners, takeUps));
    }
  }

  /** Partition number to the replica that owns it (co-partitioned topics: one owner per number). */
  private static Map<Integer, String> partitionOwners(Map<String, Set<org.apache.kafka.common.TopicPartition>> assignment) {
    Map<Integer, String> owners = new TreeMap<>();
    assignment.forEach((member, partitions) -> partitions.forEach(tp -> owners.put(tp.partition(), member)));
    return owners;
  }

  /** The jobs that have reached {@code state} by now. */
  private static Set<String> inState(FleetClient client, List<String> jobs, JobStatus.State state) throws Exception {
    return JobEventsSupport.allStatuses(client).stream()
        .filter(s -> s.getState() == state && jobs.contains(s.getJobId()))
        .map(JobStatus::getJobId).collect(java.util.stream.Collectors.toSet());
  }

  private static Map<String, Integer> countByOwner(Map<String, List<String>> owners) {
    Map<String, Integer> count = new TreeMap<>();
    owners.values().forEach(o -> o.forEach(r -> count.merge(r.substring(r.lastIndexOf('-') + 1), 1, Integer::sum)));
    return count;
  }
}
