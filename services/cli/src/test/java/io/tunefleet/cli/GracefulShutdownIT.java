package io.tunefleet.cli;

import static io.tunefleet.cli.FaultJobsSupport.awaitStatus;
import static io.tunefleet.cli.FaultJobsSupport.faultJob;
import static io.tunefleet.cli.FaultJobsSupport.instanceOf;
import static io.tunefleet.cli.FaultJobsSupport.midEpoch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM: the replica finishes its current step, commits what is durable and leaves its group at once. */
@Tag("integration")
class GracefulShutdownIT {
  /** Well under the 10 s session timeout a killed replica is detected by. */
  static final Duration PROMPT = Duration.ofSeconds(6);

  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  @Test
  void aTerminatedTrainerHandsItsJobOverPromptlyWithoutLosingOrDoublingASteps(@TempDir Path blobRoot) throws Exception {
    String job = "sigterm-trainer";
    int epochs = 3;
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      String prefix = fleet.prefix() + "-trainer-";
      ServiceProcess a = fleet.spawn("trainer", prefix + "a");
      ServiceProcess b = fleet.spawn("trainer", prefix + "b");
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.awaitGroupMembers("trainer", prefix, Set.of(a.instanceId, b.instanceId), Duration.ofSeconds(120));
      FleetClient client = fleet.client();
      client.submit(faultJob(job, epochs, 0));

      JobStatus mid = awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, 1), Duration.ofMinutes(2));
      ServiceProcess owner = instanceOf(mid).equals(a.instanceId) ? a : b;
      ServiceProcess survivor = owner == a ? b : a;
      long sigterm = System.nanoTime();
      Duration exit = owner.terminate(Duration.ofSeconds(30));
      JobStatus taken = awaitStatus(client, job, s -> s.getState() == JobStatus.State.TRAINING
          && s.getService().endsWith("/" + survivor.instanceId), Duration.ofMinutes(1));
      Duration handover = Duration.ofNanos(System.nanoTime() - sigterm);
      System.out.printf("SIGTERM at epoch %d step %d/%d: %s exited in %d ms; %s trained the job %d ms after the signal%n",
          mid.getProgress().getEpoch(), mid.getProgress().getStepInEpoch(), mid.getProgress().getStepsInEpoch(),
          owner.instanceId, exit.toMillis(), survivor.instanceId, handover.toMillis());
      assertEquals(143, owner.process.exitValue(), "exit status of a JVM stopped by SIGTERM through its shutdown hooks");
      assertTrue(owner.output().contains("shutting down"), owner.tail(20));
      assertTrue(handover.compareTo(PROMPT) < 0, "the survivor must get the job promptly (the victim left its group), took "
          + handover.toMillis() + " ms");

      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "job: " + outcome.lastStatus() + "\n" + survivor.tail(40));
      assertTrue(survivor.output().contains(job + ": TRAIN resumed from the checkpoint of epoch 0"), survivor.tail(40));
      JobEventsSupport events = JobEventsSupport.read(client, job);
      assertEquals(List.of("trainer/" + owner.instanceId, "trainer/" + survivor.instanceId),
          events.ownersInOrder(JobStatus.State.TRAINING));
      assertTrue(taken.getProgress().getEpoch() >= 1);
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, epochs);
      events.assertOneVerdictPerCheckpoint();
      events.assertOneFinishedModel();
      assertEquals(List.of(), events.deadLetters);
    }
  }
}
