package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.kafka.KafkaClients;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.DeadLetter;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Duplicates and replays are harmless: a request sent twice makes one job, a different request under a
 * taken job id is dead-lettered, and services made to re-read their topics from the start republish the
 * very same verdicts and finished model and produce no new work.
 */
@Tag("integration")
class ReplayIT {
  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  @Test
  void aResentRequestMakesNoSecondJobAndADifferentRequestUnderATakenIdIsDeadLettered(@TempDir Path blobRoot)
      throws Exception {
    String job = "replay-resent";
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      fleet.deploy("data-augmenter", "trainer", "evaluator", "distiller");
      FleetClient client = fleet.client();
      TrainingRequest request = FleetTestSupport.smallJob(job, 60);
      client.submit(request);
      FaultJobsSupport.awaitStatus(client, job, s -> s.getState() == JobStatus.State.ACCEPTED, Duration.ofMinutes(1));
      client.submit(request);
      TrainingRequest other = request.toBuilder().setRecipe(request.getRecipe().toBuilder().setEpochs(3)).build();
      client.submit(other);

      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), outcome.lastStatus().toString());
      JobEventsSupport events = awaitDeadLetters(client, job, 1);
      assertEquals(1, events.count(s -> s.getState() == JobStatus.State.ACCEPTED), "one job, accepted once");
      assertEachBatchPublishedOnce(events);
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, 2);
      events.assertStepsAppliedExactlyOnce(Phase.DISTILL, 1);
      events.assertOneVerdictPerCheckpoint();
      events.assertOneFinishedModel();
      DeadLetter dl = events.deadLetters.get(0);
      assertEquals(job, dl.getKey());
      assertEquals(fleet.topics().requests, dl.getTopic());
      assertTrue(dl.getReason().contains("job id " + job + " is already taken by a different request"), dl.getReason());
      assertEquals(other, TrainingRequest.parseFrom(dl.getValue()), "the dead letter carries the original bytes");
    }
  }

  @Test
  void servicesThatReReadTheirTopicsRepublishTheSameVerdictsAndModelAndMakeNoNewWork(@TempDir Path blobRoot)
      throws Exception {
    Replayed r = runThenReplay(blobRoot, "replay-offsets", t -> Map.of(
        "data-augmenter", List.of(t.requests, t.evaluations), "evaluator", List.of(t.checkpoints)));
    assertEquals(r.before.batches.size(), r.after.batches.size(), "no batch is produced again");
    assertEquals(r.before.checkpoints.size(), r.after.checkpoints.size(), "no checkpoint is produced again");
    assertEquals(1, r.after.count(s -> s.getState() == JobStatus.State.ACCEPTED), "the request is not accepted again");
    assertEquals(2 * r.before.evaluations.size(), r.after.evaluations.size(), "the evaluator re-announced every verdict");
    r.after.assertOneVerdictPerCheckpoint();
    // the re-announced final verdict reaches the distiller, which resends its stored event
    assertTrue(r.after.models.size() > r.before.models.size(), "the distiller resent its stored event");
    r.after.assertOneFinishedModel();
    assertEquals(List.of(), r.after.deadLetters);
    assertEquals(0, r.after.count(s -> s.getState() == JobStatus.State.FAILED));
  }

  @Test
  void aReplayLeavesAFinishedJobFinished(@TempDir Path blobRoot) throws Exception {
    Replayed r = runThenReplay(blobRoot, "replay-status", t -> Map.of("evaluator", List.of(t.checkpoints)));
    assertEquals(JobStatus.State.FINISHED, r.after.lastStatus().getState(), r.after.lastStatus().toString());
  }

  @Test
  void aReplayedTrainerSkipsTheBatchesItAlreadyAppliedWithoutReadingThem(@TempDir Path blobRoot) throws Exception {
    Replayed r = runThenReplay(blobRoot, "replay-batches", t -> Map.of(
        "trainer", List.of(t.batches), "distiller", List.of(t.batches)));
    assertEquals(r.before.checkpoints.size(), r.after.checkpoints.size(), "no checkpoint is produced again");
    assertEquals(List.of(), r.after.deadLetters);
    assertEquals(0, r.after.count(s -> s.getState() == JobStatus.State.FAILED));
  }

  /** A job's events before and after some services re-read their topics from the start. */
  record Replayed(JobEventsSupport before, JobEventsSupport after) {}

  /**
   * Runs a small job to the end, then stops some services, rewinds their groups to the start of some
   * topics ({@code rewound}: service → topics) and starts them again.
   */
  private static Replayed runThenReplay(Path blobRoot, String job, Function<Topics, Map<String, List<String>>> rewound)
      throws Exception {
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      fleet.deploy("data-augmenter", "trainer", "evaluator", "distiller");
      FleetClient client = fleet.client();
      client.submit(FleetTestSupport.smallJob(job, 30));
      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), outcome.lastStatus().toString());
      Thread.sleep(1000); // let every service commit the job's last records
      JobEventsSupport before = JobEventsSupport.read(client, job);
      Map<String, List<String>> topicsOf = rewound.apply(fleet.topics());
      for (Map.Entry<String, List<String>> s : topicsOf.entrySet()) {
        fleet.undeploy(s.getKey());
        fleet.rewind(s.getKey(), s.getValue());
      }
      for (String s : topicsOf.keySet()) {
        fleet.deploy(s);
      }
      for (Map.Entry<String, List<String>> s : topicsOf.entrySet()) {
        awaitCaughtUp(fleet, s.getKey(), s.getValue());
      }
      Thread.sleep(1000);
      return new Replayed(before, JobEventsSupport.read(client, job));
    }
  }

  /** Waits until {@code service}'s group has committed the end of each of {@code topics}: it has re-read everything. */
  private static void awaitCaughtUp(ProcessFleetSupport fleet, String service, List<String> topics) {
    ProcessFleetSupport.await(service + " to re-read " + topics, Duration.ofMinutes(2), () -> {
      try (Admin admin = Admin.create(KafkaClients.common(fleet.config()))) {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(fleet.config().consumerGroup(service))
            .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
        committed.keySet().stream().filter(tp -> topics.contains(tp.topic())).forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
        return !latest.isEmpty() && ends.entrySet().stream()
            .allMatch(e -> committed.get(e.getKey()).offset() >= e.getValue().offset());
      } catch (Exception e) {
        return false;
      }
    });
  }

  private static JobEventsSupport awaitDeadLetters(FleetClient client, String job, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      JobEventsSupport e = JobEventsSupport.read(client, job);
      if (e.deadLetters.size() >= n || System.nanoTime() > deadline) {
        assertEquals(n, e.deadLetters.size(), "dead letters of " + job);
        return e;
      }
      Thread.sleep(300);
    }
  }

  private static void assertEachBatchPublishedOnce(JobEventsSupport events) {
    Set<String> seen = new HashSet<>();
    for (BatchRef b : events.batches) {
      assertTrue(seen.add(b.getPhase() + "/" + b.getEpoch() + "/" + b.getIndexInEpoch()),
          "batch published twice: " + b.getPhase() + " " + b.getEpoch() + "/" + b.getIndexInEpoch());
    }
  }
}
