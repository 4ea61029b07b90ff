package io.tunefleet.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.KafkaClients;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;

/** What the command line does against a fleet: submit requests and read a job's events. */
public final class FleetClient implements AutoCloseable {
  private final FleetConfig config;
  private final Topics topics;
  private FleetProducer producer;

  public FleetClient(FleetConfig config) {
    this.config = config;
    this.topics = new Topics(config);
  }

  /** The configured cluster, else the local fleet started by `fleet up`. */
  public static FleetConfig resolve(FleetConfig config, String bootstrapOption) throws java.io.IOException {
    if (bootstrapOption != null && !bootstrapOption.isBlank()) {
      return config.with(FleetConfig.BOOTSTRAP_SERVERS.key(), bootstrapOption);
    }
    if (!config.bootstrapServers().isBlank()) {
      return config;
    }
    Path local = LocalFleet.bootstrapFile(config);
    if (Files.exists(local)) {
      return config.with(FleetConfig.BOOTSTRAP_SERVERS.key(), Files.readString(local, StandardCharsets.UTF_8).trim());
    }
    throw new IllegalStateException("no Kafka cluster: start one with `fleet up`, or set FLEET_BOOTSTRAP_SERVERS / --bootstrap");
  }

  public Topics topics() {
    return topics;
  }

  /** Parses a JSON request (protobuf's JSON mapping); unknown fields and wrong types are errors naming them. */
  public static TrainingRequest parseRequest(String json) throws InvalidProtocolBufferException {
    TrainingRequest.Builder b = TrainingRequest.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.build();
  }

  /** Publishes the request (a job id is made up when it has none) and returns it as sent. */
  public TrainingRequest submit(TrainingRequest request) {
    TrainingRequest r = request.getJobId().isEmpty()
        ? request.toBuilder().setJobId("job-" + UUID.randomUUID().toString().substring(0, 8)).build() : request;
    producer().sendAndWait(topics.requests, r.getJobId(), r);
    return r;
  }

  private FleetProducer producer() {
    if (producer == null) {
      producer = new FleetProducer(config, "fleet-cli");
    }
    return producer;
  }

  /** A consumer positioned at the start of the partition that holds {@code job} in each topic. */
  public KafkaConsumer<String, byte[]> consumerFor(String job, List<String> topicNames) {
    Properties p = KafkaClients.common(config);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
    List<TopicPartition> parts = new ArrayList<>();
    for (String t : topicNames) {
      List<PartitionInfo> infos = consumer.partitionsFor(t, Duration.ofSeconds(30));
      if (job == null) {
        infos.forEach(i -> parts.add(new TopicPartition(t, i.partition())));
      } else {
        // the default partitioner of keyed records
        int partition = Utils.toPositive(Utils.murmur2(job.getBytes(StandardCharsets.UTF_8))) % infos.size();
        parts.add(new TopicPartition(t, partition));
      }
    }
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
    return consumer;
  }

  /** Every record currently in the job's partitions of these topics (up to their end), in offset order per topic. */
  public List<ConsumerRecord<String, byte[]>> readAll(String job, List<String> topicNames) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumerFor(job, topicNames)) {
      Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
      Predicate<KafkaConsumer<String, byte[]>> done = c -> end.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue());
      while (!done.test(consumer)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (job == null || job.equals(r.key())) {
            out.add(r);
          }
        }
      }
    }
    return out;
  }

  public static String json(Message m) {
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Decodes a record of one of the fleet's event topics. */
  public Message decode(ConsumerRecord<String, byte[]> r) throws InvalidProtocolBufferException {
    if (r.topic().equals(topics.status)) {
      return JobStatus.parseFrom(r.value());
    } else if (r.topic().equals(topics.evaluations)) {
      return Evaluation.parseFrom(r.value());
    } else if (r.topic().equals(topics.models)) {
      return ModelFinished.parseFrom(r.value());
    }
    throw new IllegalArgumentException("not an event topic: " + r.topic());
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close();
    }
  }
}
