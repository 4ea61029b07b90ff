package io.tunefleet.common.kafka;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.proto.v1.DeadLetter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's one Kafka consumer loop: a dedicated thread that polls, hands each record to a
 * {@link RecordHandler}, flushes the producer and only then commits — at-least-once delivery with
 * durable effects. Offsets of deferred records are held back per partition until released, so a
 * replica that dies mid-epoch is replayed from the last durable point by the next owner.
 */
public final class ConsumerLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

  private final KafkaConsumer<String, byte[]> consumer;
  private final RecordHandler handler;
  private final FleetProducer producer;
  private final List<String> topics;
  private final String deadLetterTopic;
  private final String service;
  private final Thread thread;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stopped = new CountDownLatch(1);
  // the loop's bookkeeping: used by its thread, or by the handler's while the loop waits for it (runPoll)
  private final Map<TopicPartition, Long> processed = new HashMap<>();
  private final Map<TopicPartition, TreeMap<Long, String>> deferred = new HashMap<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private final KafkaClientMetrics metrics;
  private final java.util.concurrent.ScheduledExecutorService metricsScheduler;
  private volatile boolean assigned;
  private final Set<TopicPartition> owned = ConcurrentHashMap.newKeySet();
  private volatile Throwable failure;
  private ConsumerRecord<String, byte[]> current;

  public ConsumerLoop(FleetConfig config, String service, String groupId, List<String> topics, RecordHandler handler,
      FleetProducer producer, String deadLetterTopic, MeterRegistry registry, String instanceId) {
    this.consumer = new KafkaConsumer<>(KafkaClients.consumer(config, groupId, instanceId));
    this.handler = handler;
    this.producer = producer;
    this.topics = topics;
    this.deadLetterTopic = deadLetterTopic;
    this.service = service;
    // a 10 s refresh (Micrometer's default is 60 s) so per-partition lag appears soon after assignment
    this.metricsScheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, service + "-kafka-metrics");
      t.setDaemon(true);
      return t;
    });
    this.metrics = new KafkaClientMetrics(consumer, java.util.List.of(), metricsScheduler, Duration.ofSeconds(10));
    metrics.bindTo(registry);
    // one metric under both group protocols: the consumer-protocol client exports no assigned-partitions
    Gauge.builder("fleet.consumer.partitions.owned", owned,
            o -> o.stream().mapToInt(TopicPartition::partition).distinct().count())
        .description("Partition numbers (job slots) this replica owns now, across its co-partitioned topics")
        .register(registry);
    this.thread = new Thread(this::run, service + "-consumer");
  }

  public void start() {
    thread.start();
  }

  /** True while the loop thread runs (liveness). */
  public boolean alive() {
    return thread.isAlive() && failure == null;
  }

  /** Why the loop stopped on its own, or null while it runs (or after a requested stop). */
  public Throwable failure() {
    return failure;
  }

  /** True once the group gave this replica its partitions (readiness). */
  public boolean ready() {
    return assigned && alive();
  }

  private final RecordContext context = new RecordContext() {
    @Override
    public void defer(String jobId) {
      TopicPartition tp = new TopicPartition(current.topic(), current.partition());
      deferred.computeIfAbsent(tp, k -> new TreeMap<>()).put(current.offset(), jobId);
    }

    @Override
    public void release(String jobId) {
      for (TreeMap<Long, String> offsets : deferred.values()) {
        offsets.values().removeIf(jobId::equals);
      }
    }
  };

  private void run() {
    try {
      consumer.subscribe(topics, new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          commit(partitions);
          forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assigned = true;
          owned.addAll(partitions);
          handler.onAssigned(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
          forget(partitions);
        }
      });
      while (running.get()) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        handler.runPoll(() -> handle(records));
        commit(consumer.assignment());
      }
    } catch (WakeupException e) {
      if (running.get()) {
        failure = e;
      }
    } catch (UnsupportedVersionException e) {
      // a cluster before Kafka 4.0 (or one with the protocol switched off) refuses the consumer protocol
      failure = e.getMessage() != null && e.getMessage().contains("group.protocol")
          ? new IllegalStateException("the Kafka cluster does not support the consumer rebalance protocol (KIP-848, "
              + "Kafka 4.0 and later) that FLEET_KAFKA_GROUP_PROTOCOL=consumer selects: upgrade it, or set "
              + "FLEET_KAFKA_GROUP_PROTOCOL=classic, the default (" + e.getMessage() + ")", e)
          : e;
      LOG.error("{}: consumer loop stopped: {}", service, failure.getMessage());
    } catch (Throwable t) {
      failure = t;
      LOG.error("{}: consumer loop stopped", service, t);
    } finally {
      try {
        try {
          commit(consumer.assignment());
        } catch (WakeupException e) {
          // a wakeup raised while the last record was handled: the commit is still wanted
          commit(consumer.assignment());
        }
        consumer.close(Duration.ofSeconds(5));
      } catch (Exception e) {
        LOG.debug("closing consumer", e);
      }
      metrics.close();
      metricsScheduler.shutdownNow();
      stopped.countDown();
    }
  }

  /**
   * One poll's records in order, then the handler's after-poll work, on the thread that
   * {@link RecordHandler#runPoll} picks.
   */
  private void handle(ConsumerRecords<String, byte[]> records) {
    for (ConsumerRecord<String, byte[]> record : records) {
      if (!running.get()) {
        break;
      }
      current = record;
      try {
        handler.handle(record, context);
      } catch (Exception e) {
        LOG.warn("{}: record {}-{}@{} failed, sent to dead letter: {}", service, record.topic(), record.partition(),
            record.offset(), e.toString());
        deadLetter(record, e);
      }
      processed.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
    }
    handler.afterPoll(context);
  }

  /** Partitions gone to another member: the handler drops their jobs, the loop their offsets. */
  private void forget(Collection<TopicPartition> partitions) {
    owned.removeAll(partitions);
    handler.onRevoked(partitions);
    for (TopicPartition tp : partitions) {
      processed.remove(tp);
      deferred.remove(tp);
      committed.remove(tp);
    }
  }

  private void deadLetter(ConsumerRecord<String, byte[]> record, Exception e) {
    String reason = e.getMessage() == null ? e.toString() : e.getMessage();
    producer.send(deadLetterTopic, record.key() == null ? "" : record.key(), DeadLetter.newBuilder()
        .setTopic(record.topic()).setPartition(record.partition()).setOffset(record.offset())
        .setKey(record.key() == null ? "" : record.key())
        .setValue(record.value() == null ? ByteString.EMPTY : ByteString.copyFrom(record.value()))
        .setReason(reason).setService(service).build());
  }

  private void commit(Collection<TopicPartition> partitions) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Long next = processed.get(tp);
      if (next == null) {
        continue;
      }
      TreeMap<Long, String> held = deferred.get(tp);
      long safe = held == null || held.isEmpty() ? next : held.firstKey();
      if (!Long.valueOf(safe).equals(committed.get(tp))) {
        offsets.put(tp, new OffsetAndMetadata(safe));
      }
    }
    if (!offsets.isEmpty()) {
      // effects first (events acknowledged), then the offsets that say they happened
      producer.flush();
      try {
        consumer.commitSync(offsets);
        offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
      } catch (RetriableException | CommitFailedException | RebalanceInProgressException e) {
        // not fatal: offsets are cumulative, so the next commit carries these too (a broker away for longer
        // than the API timeout); if the partitions moved meanwhile, their new owner replays from the last
        // committed offset, which at-least-once delivery allows
        LOG.warn("{}: commit of {} failed, retried with the next one: {}", service, offsets, e.toString());
      }
    }
  }

  /** Stops polling after the current record, commits what is durable and leaves the group. */
  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
