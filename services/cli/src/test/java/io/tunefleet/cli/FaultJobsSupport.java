package io.tunefleet.cli;

import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.utils.Utils;

/**
 * Jobs for the fault tests, and live waits on their statuses. The fault jobs train long enough per
 * epoch (225 steps: 4-5 s on a fast 2-core machine, more on a slow one) that a replica can be killed in
 * the middle of one: a narrow ResNet-10 on 400 images per class, in batches of 8.
 */
final class FaultJobsSupport {
  private FaultJobsSupport() {}

  /** Images per class of a fault job (10% held out for validation). */
  static final int PER_CLASS = 400;

  /**
   * A job of {@code epochs} epochs, all of them published at acceptance (lead epochs = epochs, so a run
   * that resumes from a copied checkpoint needs no verdict to get its batches), with {@code distillEpochs}
   * of distillation (0: off).
   */
  static TrainingRequest faultJob(String jobId, int epochs, int distillEpochs) {
    return faultJob(jobId, epochs, distillEpochs, PER_CLASS);
  }

  /** The same with {@code perClass} images per class. */
  static TrainingRequest faultJob(String jobId, int epochs, int distillEpochs, int perClass) {
    TrainingRequest small = FleetTestSupport.smallJob(jobId, perClass);
    return small.toBuilder()
        .setRecipe(small.getRecipe().toBuilder().setEpochs(epochs).setLeadEpochs(epochs).setBatchSize(8)
            .setEarlyStoppingPatience(100))
        .setDistillation(distillEpochs == 0 ? Distillation.newBuilder().setEnabled(false)
            : Distillation.newBuilder().setEnabled(true).setEpochs(distillEpochs))
        .build();
  }

  /** The partition of every job-keyed topic that holds {@code job} (the producer's default partitioner). */
  static int partitionOf(String job, int partitions) {
    return Utils.toPositive(Utils.murmur2(job.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** Follows the job's statuses from the start until one matches; fails on FAILED or timeout. */
  static JobStatus awaitStatus(FleetClient client, String job, Predicate<JobStatus> wanted, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<String, byte[]> consumer = client.consumerFor(job, List.of(client.topics().status))) {
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          if (!job.equals(r.key())) {
            continue;
          }
          JobStatus s = JobStatus.parseFrom(r.value());
          if (wanted.test(s)) {
            return s;
          }
          if (s.getState() == JobStatus.State.FAILED) {
            throw new AssertionError(job + " failed while waiting: " + s.getMessage());
          }
        }
      }
    }
    throw new AssertionError(job + ": no matching status within " + timeout);
  }

  /**
   * A training (or distilling) progress status in the middle of epoch {@code epoch}: past the first
   * {@link #FIRST_POLL} steps (so the epoch's first offsets are committed as held back) and in the epoch's first
   * half, so the replica is still in it when the test acts. Statuses come once a second; on a fast machine
   * (50 steps a second) the old margin of 15 steps was gone before the kill landed, and the victim had
   * checkpointed the epoch.
   */
  static Predicate<JobStatus> midEpoch(JobStatus.State state, int epoch) {
    return s -> s.getState() == state && s.hasProgress() && s.getProgress().getEpoch() == epoch
        && s.getProgress().getStepInEpoch() >= FIRST_POLL
        && s.getProgress().getStepInEpoch() <= s.getProgress().getStepsInEpoch() / 2;
  }

  /** Records a consumer takes per poll (max.poll.records): the offsets of a poll are committed after it. */
  static final int FIRST_POLL = 20;

  /** The status a replica publishes as it completes epoch {@code epoch}, just before it checkpoints. */
  static Predicate<JobStatus> endOfEpoch(JobStatus.State state, int epoch) {
    return s -> s.getState() == state && s.hasProgress() && s.getProgress().getEpoch() == epoch
        && s.getProgress().getStepInEpoch() == s.getProgress().getStepsInEpoch();
  }

  /** The instance id of the replica that published {@code status} ("trainer/ID" → "ID"). */
  static String instanceOf(JobStatus status) {
    String s = status.getService();
    return s.substring(s.indexOf('/') + 1);
  }
}
