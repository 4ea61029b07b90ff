package io.tunefleet.cli;

import static io.tunefleet.cli.FaultJobsSupport.awaitStatus;
import static io.tunefleet.cli.FaultJobsSupport.faultJob;
import static io.tunefleet.cli.FaultJobsSupport.instanceOf;
import static io.tunefleet.cli.FaultJobsSupport.midEpoch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 any replica mid-job: another one takes its partitions over, resumes from the last checkpoint
 * and the job finishes with every planned step applied exactly once.
 */
@Tag("integration")
class FailoverIT {
  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  @Test
  void aKilledTrainersJobIsResumedFromTheLastCheckpointByAnotherReplica(@TempDir Path blobRoot,
      @TempDir Path referenceRoot) throws Exception {
    String job = "failover-trainer";
    int epochs = 3;
    TrainingRequest request = faultJob(job, epochs, 0);
    JobEventsSupport events;
    String victim;
    ServiceProcess survivor;
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      String prefix = fleet.prefix() + "-trainer-";
      ServiceProcess a = fleet.spawn("trainer", prefix + "a");
      ServiceProcess b = fleet.spawn("trainer", prefix + "b");
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.awaitGroupMembers("trainer", prefix, Set.of(a.instanceId, b.instanceId), Duration.ofSeconds(120));
      FleetClient client = fleet.client();
      client.submit(request);

      // the owner is in the middle of the last epoch: epochs 0 and 1 are checkpointed, epoch 2 is half done
      JobStatus mid = awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, epochs - 1), Duration.ofMinutes(2));
      victim = instanceOf(mid);
      ServiceProcess owner = victim.equals(a.instanceId) ? a : b;
      survivor = owner == a ? b : a;
      owner.kill();
      System.out.printf("killed %s at epoch %d step %d/%d%n", victim, mid.getProgress().getEpoch(),
          mid.getProgress().getStepInEpoch(), mid.getProgress().getStepsInEpoch());

      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "the job must finish after its trainer was killed: " + outcome.lastStatus()
          + "\nsurvivor log:\n" + survivor.tail(40));
      events = JobEventsSupport.read(client, job);
      assertTrue(survivor.output().contains(job + ": TRAIN resumed from the checkpoint of epoch " + (epochs - 2)),
          "the survivor must resume from the last checkpoint (epoch " + (epochs - 2) + "); its log:\n" + survivor.tail(40));
      assertEquals(List.of("trainer/" + victim, "trainer/" + survivor.instanceId), events.ownersInOrder(JobStatus.State.TRAINING),
          "one owner at a time: the victim, then the survivor");
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, epochs);
      events.assertOneVerdictPerCheckpoint();
      events.assertOneFinishedModel();
      assertEquals(List.of(), events.deadLetters, "a takeover must not dead-letter anything");
    }

    // the same job in a fleet of its own, never interrupted (initialisation is seeded by the job's seed)
    JobEventsSupport reference = uninterrupted(request, referenceRoot);
    Map<String, String> batchSha = new HashMap<>();
    for (BatchRef b : events.batches) {
      batchSha.put(b.getPhase() + "/" + b.getEpoch() + "/" + b.getIndexInEpoch(), b.getBatch().getSha256());
    }
    for (BatchRef b : reference.batches) {
      assertEquals(batchSha.get(b.getPhase() + "/" + b.getEpoch() + "/" + b.getIndexInEpoch()), b.getBatch().getSha256(),
          "batches are a pure function of the request: " + b.getEpoch() + "/" + b.getIndexInEpoch());
    }
    Map<Integer, Checkpoint> failed = events.checkpointsByEpoch(Phase.TRAIN);
    Map<Integer, Checkpoint> clean = reference.checkpointsByEpoch(Phase.TRAIN);
    for (int e = 0; e < epochs; e++) {
      assertEquals(clean.get(e).getGlobalStep(), failed.get(e).getGlobalStep(), "global step of epoch " + e);
      assertEquals(clean.get(e).getCheckpoint().getSha256(), failed.get(e).getCheckpoint().getSha256(),
          "epoch " + e + ": the resumed run must end with the same weights and momentum, bit for bit, as the run "
              + "that was never interrupted (CPU training here is deterministic)");
    }
    assertEquals(reference.models.get(0).getTeacher().getModel().getSha256(),
        events.models.get(0).getTeacher().getModel().getSha256(), "the finished model is the same file");
    System.out.printf("final checkpoint (global step %d) sha256 %s in both runs%n", failed.get(epochs - 1).getGlobalStep(),
        failed.get(epochs - 1).getCheckpoint().getSha256());
  }

  @Test
  void aJobFinishesWhenItsEvaluatorAndItsDistillerAreKilled(@TempDir Path blobRoot) throws Exception {
    String job = "failover-eval-distill";
    int epochs = 2;
    int distillEpochs = 2;
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      String p = fleet.prefix();
      ServiceProcess evaluator = fleet.spawn("evaluator", p + "-evaluator-1");
      ServiceProcess distiller = fleet.spawn("distiller", p + "-distiller-1");
      fleet.spawn("trainer", p + "-trainer-1");
      fleet.deploy("data-augmenter");
      fleet.awaitGroupMembers("evaluator", p, Set.of(evaluator.instanceId), Duration.ofSeconds(120));
      fleet.awaitGroupMembers("distiller", p, Set.of(distiller.instanceId), Duration.ofSeconds(120));
      FleetClient client = fleet.client();
      client.submit(faultJob(job, epochs, distillEpochs));

      // the evaluator dies while the teacher trains its second epoch; a new replica is started in its place
      awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, 1), Duration.ofMinutes(2));
      evaluator.kill();
      ServiceProcess evaluator2 = fleet.spawn("evaluator", p + "-evaluator-2");

      // the distiller dies in the middle of the student's second epoch; a new replica takes over
      JobStatus mid = awaitStatus(client, job, midEpoch(JobStatus.State.DISTILLING, 1), Duration.ofMinutes(2));
      assertEquals(distiller.instanceId, instanceOf(mid));
      distiller.kill();
      ServiceProcess distiller2 = fleet.spawn("distiller", p + "-distiller-2");

      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "the job must finish: " + outcome.lastStatus() + "\nevaluator 2:\n"
          + evaluator2.tail(30) + "\ndistiller 2:\n" + distiller2.tail(30));
      assertTrue(outcome.finished().hasStudent());
      assertTrue(distiller2.output().contains(job + ": DISTILL resumed from the checkpoint of epoch 0"), distiller2.tail(40));
      JobEventsSupport events = JobEventsSupport.read(client, job);
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, epochs);
      events.assertStepsAppliedExactlyOnce(Phase.DISTILL, distillEpochs);
      events.assertOneVerdictPerCheckpoint();
      events.assertOneFinishedModel();
      assertEquals(List.of("distiller/" + distiller.instanceId, "distiller/" + distiller2.instanceId),
          events.ownersInOrder(JobStatus.State.DISTILLING).stream().filter(s -> !s.contains("inproc")).toList());
      assertEquals(List.of(), events.deadLetters, "a takeover must not dead-letter anything");
    }
  }

  /** Runs {@code request} in a fresh fleet with one trainer process, never interrupted. */
  private static JobEventsSupport uninterrupted(TrainingRequest request, Path referenceRoot) throws Exception {
    String job = request.getJobId();
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), referenceRoot, 3)) {
      ServiceProcess trainer = fleet.spawn("trainer", fleet.prefix() + "-trainer-ref");
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.client().submit(request);
      JobWatcher.Outcome outcome = new JobWatcher(fleet.client(), System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "reference run: " + outcome.lastStatus() + "\n" + trainer.tail(40));
      assertFalse(trainer.output().contains("resumed from the checkpoint"), trainer.tail(40));
      return JobEventsSupport.read(fleet.client(), job);
    }
  }
}
