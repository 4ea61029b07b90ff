package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.DeadLetter;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Phase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Everything one job left in a fleet's topics, decoded, and the checks the fault tests share: the step
 * accounting of a phase (every planned step applied once, no more) and the idempotence of verdicts.
 */
final class JobEventsSupport {
  final String job;
  final List<BatchRef> batches = new ArrayList<>();
  final List<Checkpoint> checkpoints = new ArrayList<>();
  final List<Evaluation> evaluations = new ArrayList<>();
  final List<ConsumerRecord<String, byte[]>> evaluationRecords = new ArrayList<>();
  final List<JobStatus> statuses = new ArrayList<>();
  final List<ModelFinished> models = new ArrayList<>();
  final List<ConsumerRecord<String, byte[]>> modelRecords = new ArrayList<>();
  final List<DeadLetter> deadLetters = new ArrayList<>();

  private JobEventsSupport(String job) {
    this.job = job;
  }

  /** Reads the job's partition of every topic up to its current end. */
  static JobEventsSupport read(FleetClient client, String job) throws InvalidProtocolBufferException {
    Topics t = client.topics();
    JobEventsSupport e = new JobEventsSupport(job);
    for (ConsumerRecord<String, byte[]> r : client.readAll(job,
        List.of(t.batches, t.checkpoints, t.evaluations, t.status, t.models, t.deadLetter))) {
      if (r.topic().equals(t.batches)) {
        e.batches.add(BatchRef.parseFrom(r.value()));
      } else if (r.topic().equals(t.checkpoints)) {
        e.checkpoints.add(Checkpoint.parseFrom(r.value()));
      } else if (r.topic().equals(t.evaluations)) {
        e.evaluations.add(Evaluation.parseFrom(r.value()));
        e.evaluationRecords.add(r);
      } else if (r.topic().equals(t.status)) {
        e.statuses.add(JobStatus.parseFrom(r.value()));
      } else if (r.topic().equals(t.models)) {
        e.models.add(ModelFinished.parseFrom(r.value()));
        e.modelRecords.add(r);
      } else if (r.topic().equals(t.deadLetter)) {
        e.deadLetters.add(DeadLetter.parseFrom(r.value()));
      }
    }
    return e;
  }

  /** Every dead letter of the fleet (all partitions, any key). */
  static List<DeadLetter> allDeadLetters(FleetClient client) throws InvalidProtocolBufferException {
    List<DeadLetter> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : client.readAll(null, List.of(client.topics().deadLetter))) {
      out.add(DeadLetter.parseFrom(r.value()));
    }
    return out;
  }

  /** Every status of the fleet (all partitions, any key). */
  static List<JobStatus> allStatuses(FleetClient client) throws InvalidProtocolBufferException {
    List<JobStatus> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : client.readAll(null, List.of(client.topics().status))) {
      out.add(JobStatus.parseFrom(r.value()));
    }
    return out;
  }

  /** Steps per epoch of {@code phase}, from the batches the augmenter published (one value per epoch). */
  Map<Integer, Integer> stepsPerEpoch(Phase phase) {
    Map<Integer, Integer> steps = new TreeMap<>();
    for (BatchRef b : batches) {
      if (b.getPhase() == phase) {
        Integer old = steps.put(b.getEpoch(), b.getStepsInEpoch());
        assertTrue(old == null || old == b.getStepsInEpoch(), "epoch " + b.getEpoch() + " announced two step counts");
      }
    }
    return steps;
  }

  /** The last checkpoint event of each epoch of {@code phase}. */
  Map<Integer, Checkpoint> checkpointsByEpoch(Phase phase) {
    Map<Integer, Checkpoint> out = new TreeMap<>();
    for (Checkpoint c : checkpoints) {
      if (c.getPhase() == phase) {
        out.put(c.getEpoch(), c);
      }
    }
    return out;
  }

  /**
   * The step accounting of one phase: every epoch 0..epochs-1 checkpointed, each epoch's checkpoint at
   * the global step the plan says (the sum of the steps of the epochs up to it), the final one at
   * epochs x steps, and a re-announced epoch (a replay after a takeover) announced with the very same
   * global step and checkpoint bytes (sha256).
   */
  void assertStepsAppliedExactlyOnce(Phase phase, int epochs) {
    Map<Integer, Integer> steps = stepsPerEpoch(phase);
    assertEquals(epochs, steps.size(), phase + " epochs published: " + steps);
    Map<Integer, List<Checkpoint>> byEpoch = checkpoints.stream().filter(c -> c.getPhase() == phase)
        .collect(Collectors.groupingBy(Checkpoint::getEpoch, TreeMap::new, Collectors.toList()));
    assertEquals(steps.keySet(), byEpoch.keySet(), phase + " epochs checkpointed");
    long planned = 0;
    for (Map.Entry<Integer, Integer> e : steps.entrySet()) {
      planned += e.getValue();
      List<Checkpoint> announced = byEpoch.get(e.getKey());
      for (Checkpoint c : announced) {
        assertEquals(planned, c.getGlobalStep(), phase + " epoch " + e.getKey() + ": global step of a checkpoint");
        assertEquals(announced.get(0).getCheckpoint().getSha256(), c.getCheckpoint().getSha256(),
            phase + " epoch " + e.getKey() + " was announced twice with different weights");
      }
    }
    long last = byEpoch.get(epochs - 1).get(0).getGlobalStep();
    long sum = steps.values().stream().mapToLong(Integer::longValue).sum();
    assertEquals(sum, last, phase + ": final global step == steps planned");
  }

  /** A verdict is published once per checkpoint, and any re-announcement is byte-for-byte the same. */
  void assertOneVerdictPerCheckpoint() {
    Map<String, byte[]> first = new LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> r : evaluationRecords) {
      Evaluation e;
      try {
        e = Evaluation.parseFrom(r.value());
      } catch (InvalidProtocolBufferException ex) {
        throw new AssertionError(ex);
      }
      String key = e.getPhase() + "/" + e.getEpoch();
      byte[] seen = first.putIfAbsent(key, r.value());
      if (seen != null) {
        assertTrue(java.util.Arrays.equals(seen, r.value()), "two different verdicts for " + job + " " + key);
      }
    }
  }

  /** Every finished-model event of the job is the same event. */
  void assertOneFinishedModel() {
    assertFalse(modelRecords.isEmpty(), job + ": no finished model");
    for (ConsumerRecord<String, byte[]> r : modelRecords) {
      assertTrue(java.util.Arrays.equals(modelRecords.get(0).value(), r.value()), job + ": two different finished models");
    }
  }

  /** The replicas that published training progress, in order of first appearance, each once per stretch. */
  List<String> ownersInOrder(JobStatus.State state) {
    List<String> owners = new ArrayList<>();
    for (JobStatus s : statuses) {
      if (s.getState() == state && (owners.isEmpty() || !owners.get(owners.size() - 1).equals(s.getService()))) {
        owners.add(s.getService());
      }
    }
    return owners;
  }

  /**
   * Times a replica took the job up in {@code state}: once at its start, then once per handover or restart
   * from its last checkpoint (the trainer announces each with the progress at step 0 of the epoch it begins).
   */
  long takeUps(JobStatus.State state) {
    return statuses.stream().filter(s -> s.getState() == state && s.getProgress().getStepInEpoch() == 0).count();
  }

  JobStatus lastStatus() {
    return statuses.isEmpty() ? null : statuses.get(statuses.size() - 1);
  }

  long count(Function<JobStatus, Boolean> which) {
    return statuses.stream().filter(which::apply).count();
  }
}
