package io.tunefleet.common.kafka;

import io.tunefleet.common.config.FleetConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** The fleet's topics (all job-keyed, all with one partition count) and their creation at start-up. */
public final class Topics {
  public final String requests;
  public final String batches;
  public final String checkpoints;
  public final String evaluations;
  public final String status;
  public final String models;
  public final String deadLetter;

  public Topics(FleetConfig config) {
    requests = config.topic("requests");
    batches = config.topic("batches");
    checkpoints = config.topic("checkpoints");
    evaluations = config.topic("evaluations");
    status = config.topic("status");
    models = config.topic("models");
    deadLetter = config.topic("dead-letter");
  }

  public List<String> all() {
    return List.of(requests, batches, checkpoints, evaluations, status, models, deadLetter);
  }

  /**
   * Creates the missing topics with {@code partitions} partitions each; existing ones are left alone but
   * must have the same count, or co-partitioning (one job on one partition number everywhere) breaks.
   */
  /** Describes the topics, waiting out the moment after creation when the broker's metadata lags behind. */
  private java.util.Map<String, org.apache.kafka.clients.admin.TopicDescription> describe(Admin admin)
      throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return admin.describeTopics(all()).allTopicNames().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  public void create(FleetConfig config) {
    int partitions = config.getInt(FleetConfig.PARTITIONS);
    short replication = (short) config.getInt(FleetConfig.REPLICATION);
    try (Admin admin = Admin.create(KafkaClients.common(config))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String t : all()) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, partitions, replication));
        }
      }
      try {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      describe(admin).forEach((name, d) -> {
        if (d.partitions().size() != partitions) {
          throw new IllegalStateException("topic " + name + " has " + d.partitions().size() + " partitions, the fleet is "
              + "configured for " + partitions + " (FLEET_PARTITIONS): job-keyed topics must be co-partitioned");
        }
      });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot create topics on " + config.bootstrapServers() + ": " + e.getMessage(), e);
    }
  }
}
