package io.tunefleet.cli;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.KafkaClients;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;

/**
 * One fleet (its own topic prefix and blob root) on a shared broker, whose services run either as child
 * JVMs ({@code fleet run SERVICE}, so {@code kill -9} and SIGTERM are real) or as verticles in the test
 * JVM (cheap, and their consumer groups can be stopped and rewound). Closing it stops everything it started.
 */
final class ProcessFleetSupport implements AutoCloseable {
  private static KafkaTestCluster shared;

  private final FleetConfig config;
  private final Path logs;
  private final List<ServiceProcess> processes = new ArrayList<>();
  private final Map<String, String> deployments = new LinkedHashMap<>();
  private final Map<String, ServiceVerticle> verticles = new LinkedHashMap<>();
  private Vertx vertx;
  private FleetClient client;

  private ProcessFleetSupport(FleetConfig config, Path logs) {
    this.config = config;
    this.logs = logs;
  }

  /**
   * The broker of the fault and scale tests, started once per test JVM and stopped when it exits (each
   * test class still gets its own topic prefix and blob root, so fleets never see each other's records).
   */
  static synchronized KafkaTestCluster sharedBroker() {
    if (shared == null) {
      shared = KafkaTestCluster.start(3);
      KafkaTestCluster broker = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "shared-broker-stop"));
    }
    return shared;
  }

  /** A fleet with a fresh topic prefix whose blob store is {@code blobRoot}; its topics are created now. */
  static ProcessFleetSupport create(String bootstrap, Path blobRoot, int partitions) {
    return create(bootstrap, blobRoot, partitions, new JsonObject(), Map.of());
  }

  /**
   * A fleet whose blob store is on an S3 server ({@code s3Root} there, e.g. from {@code S3TestServer.newRoot});
   * {@code workDir} keeps the service logs. Child processes get {@code environment} (the server's credentials).
   */
  static ProcessFleetSupport onS3(String bootstrap, Path workDir, int partitions, String s3Root, java.net.URI endpoint,
      Map<String, String> environment, JsonObject settings) {
    return create(bootstrap, workDir, partitions, settings.copy().put(FleetConfig.BLOB_ROOT.key(), s3Root)
        .put(FleetConfig.S3_ENDPOINT.key(), endpoint.toString())
        .put(FleetConfig.DATA_ROOTS.key(), FleetTestSupport.datasets().toString()), environment);
  }

  private static ProcessFleetSupport create(String bootstrap, Path blobRoot, int partitions, JsonObject settings,
      Map<String, String> environment) {
    FleetConfig config = FleetConfig.load(new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), bootstrap)
        .put(FleetConfig.BLOB_ROOT.key(), blobRoot.toString())
        .put(FleetConfig.DATA_ROOTS.key(), FleetTestSupport.datasets() + ":" + blobRoot)
        .put(FleetConfig.TOPIC_PREFIX.key(), "t" + UUID.randomUUID().toString().substring(0, 8))
        .put(FleetConfig.PARTITIONS.key(), partitions).mergeIn(settings), Map.of());
    new Topics(config).create(config);
    Path logs = blobRoot.resolve("logs");
    try {
      Files.createDirectories(logs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ProcessFleetSupport fleet = new ProcessFleetSupport(config, logs);
    fleet.environment.putAll(environment);
    return fleet;
  }

  /** The blob-store settings every service of this fleet gets, in a child's environment or a verticle's config. */
  private static final List<io.tunefleet.common.config.Setting> STORE_SETTINGS = List.of(FleetConfig.BLOB_ROOT,
      FleetConfig.S3_ENDPOINT, FleetConfig.S3_REGION, FleetConfig.PRESIGN_SECONDS, FleetConfig.KEEP_CHECKPOINTS,
      FleetConfig.DATA_ROOTS);

  private final Map<String, String> environment = new LinkedHashMap<>();

  FleetConfig config() {
    return config;
  }

  Topics topics() {
    return new Topics(config);
  }

  String prefix() {
    return config.get(FleetConfig.TOPIC_PREFIX);
  }

  synchronized FleetClient client() {
    if (client == null) {
      client = new FleetClient(config);
    }
    return client;
  }

  /**
   * One libtorch thread per child process, as a one-CPU limit per pod would give it: several processes on
   * this 2-core host, each with a thread per core, make OpenMP's spinning threads fight for the cores and
   * every replica crawl. The tests that compare weights run every trainer this same way.
   */
  static final List<String> ONE_CORE = List.of("-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1");

  /** Starts {@code service} as a child JVM named {@code instanceId} (one core); does not wait for it to join its group. */
  ServiceProcess spawn(String service, String instanceId) {
    return spawn(service, instanceId, ONE_CORE);
  }

  /**
   * Starts {@code service} as a child JVM (1 GB heap, as in a container) with extra JVM options, e.g.
   * {@code -Dai.djl.pytorch.num_threads=1} to give each of several replicas on one host its share of the cores.
   */
  ServiceProcess spawn(String service, String instanceId, List<String> jvmOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Dai.djl.offline=true");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Fleet.class.getName());
    cmd.add("run");
    cmd.add(service);
    cmd.add("--bootstrap");
    cmd.add(config.bootstrapServers());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // the fleet's own settings come from this fleet; Kafka client properties (FLEET_KAFKA_*) pass through
    pb.environment().keySet().removeIf(k -> k.startsWith("FLEET_") && !k.startsWith("FLEET_KAFKA_"));
    for (io.tunefleet.common.config.Setting setting : STORE_SETTINGS) {
      pb.environment().put(setting.key(), config.get(setting));
    }
    pb.environment().putAll(environment);
    pb.environment().put(FleetConfig.TOPIC_PREFIX.key(), prefix());
    pb.environment().put(FleetConfig.PARTITIONS.key(), config.get(FleetConfig.PARTITIONS));
    pb.environment().put(FleetConfig.INSTANCE_ID.key(), instanceId);
    pb.environment().put(FleetConfig.METRICS_PORT.key(), "0");
    pb.environment().put(FleetConfig.DEVICE.key(), "cpu");
    Path log = logs.resolve(instanceId + ".log");
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      ServiceProcess p = new ServiceProcess(service, instanceId, pb.start(), log);
      processes.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + instanceId, e);
    }
  }

  /** Deploys {@code service} as a verticle in this JVM (at most one per service); waits until it started. */
  synchronized ServiceVerticle deploy(String service) {
    if (vertx == null) {
      vertx = Vertx.vertx();
    }
    JsonObject cfg = new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), config.bootstrapServers())
        .put(FleetConfig.TOPIC_PREFIX.key(), prefix())
        .put(FleetConfig.PARTITIONS.key(), config.getInt(FleetConfig.PARTITIONS))
        .put(FleetConfig.METRICS_PORT.key(), 0)
        .put(FleetConfig.DEVICE.key(), "cpu")
        .put(FleetConfig.INSTANCE_ID.key(), prefix() + "-" + service + "-inproc");
    for (io.tunefleet.common.config.Setting setting : STORE_SETTINGS) {
      cfg.put(setting.key(), config.get(setting));
    }
    ServiceVerticle v = LocalFleet.SERVICES.get(service).get();
    try {
      String id = vertx.deployVerticle(v, new DeploymentOptions().setConfig(cfg))
          .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
      deployments.put(service, id);
      verticles.put(service, v);
      return v;
    } catch (Exception e) {
      throw new IllegalStateException("cannot deploy " + service + ": " + e, e);
    }
  }

  /** Deploys the services named, in order. */
  void deploy(String... services) {
    for (String s : services) {
      deploy(s);
    }
  }

  ServiceVerticle verticle(String service) {
    return verticles.get(service);
  }

  /** Stops an in-process service the graceful way: it commits what is durable and leaves its group. */
  synchronized void undeploy(String service) {
    String id = deployments.remove(service);
    verticles.remove(service);
    if (id != null) {
      try {
        vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("cannot undeploy " + service + ": " + e, e);
      }
    }
  }

  /**
   * Waits until the consumer group of {@code service} is stable and its members include exactly the client ids
   * in {@code instances} among those of this fleet (client ids starting with {@code instancePrefix}).
   */
  void awaitGroupMembers(String service, String instancePrefix, Set<String> instances, Duration timeout) {
    await("group of " + service + " to be stable with " + instances, timeout, () -> {
      ConsumerGroupDescription d = describe(service);
      if (d == null || d.groupState() != GroupState.STABLE) {
        return false;
      }
      Set<String> ours = d.members().stream().map(MemberDescription::clientId)
          .filter(c -> c.startsWith(instancePrefix)).collect(Collectors.toSet());
      if (!ours.equals(instances)) {
        return false;
      }
      // a cooperative rebalance takes two rounds when partitions move: stable only once every partition
      // of every topic the group reads has its owner again
      Map<String, Set<Integer>> owned = new HashMap<>();
      d.members().forEach(m -> m.assignment().topicPartitions().stream().filter(tp -> tp.topic().startsWith(prefix() + "."))
          .forEach(tp -> owned.computeIfAbsent(tp.topic(), t -> new HashSet<>()).add(tp.partition())));
      int partitions = config.getInt(FleetConfig.PARTITIONS);
      return !owned.isEmpty() && owned.values().stream().allMatch(numbers -> numbers.size() == partitions);
    });
  }

  /** The members of {@code group} and the partitions of this fleet's topics each one owns. */
  Map<String, Set<TopicPartition>> assignment(String service) {
    ConsumerGroupDescription d = describe(service);
    Map<String, Set<TopicPartition>> out = new LinkedHashMap<>();
    if (d != null) {
      for (MemberDescription m : d.members()) {
        out.put(m.clientId(), m.assignment().topicPartitions().stream()
            .filter(tp -> tp.topic().startsWith(prefix() + ".")).collect(Collectors.toSet()));
      }
    }
    return out;
  }

  private ConsumerGroupDescription describe(String service) {
    String group = config.consumerGroup(service);
    try (Admin admin = Admin.create(KafkaClients.common(config))) {
      return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group);
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Rewinds {@code group} to the start of this fleet's {@code topics}, as an operator resetting offsets
   * would: the group must have no live member (undeploy its service first).
   */
  void rewind(String service, List<String> topicNames) throws Exception {
    try (Admin admin = Admin.create(KafkaClients.common(config))) {
      Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
      for (String t : topicNames) {
        for (int p = 0; p < config.getInt(FleetConfig.PARTITIONS); p++) {
          offsets.put(new TopicPartition(t, p), new OffsetAndMetadata(0));
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          admin.alterConsumerGroupOffsets(config.consumerGroup(service), offsets).all().get(10, TimeUnit.SECONDS);
          return;
        } catch (Exception e) {
          // the group may still hold the member that just left, for a moment
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(500);
        }
      }
    }
  }

  @Override
  public void close() {
    // SIGTERM first: a replica that leaves its group at once frees its cores for the next test
    processes.forEach(p -> p.process.destroy());
    for (ServiceProcess p : processes) {
      try {
        if (!p.process.waitFor(5, TimeUnit.SECONDS)) {
          p.kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.kill();
      }
    }
    if (client != null) {
      client.close();
    }
    for (String service : new ArrayList<>(deployments.keySet())) {
      try {
        undeploy(service);
      } catch (RuntimeException e) {
        System.err.println("closing the test fleet: " + e);
      }
    }
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }

  /** A service running as a child JVM, with its output in a log file. */
  static final class ServiceProcess {
    final String service;
    final String instanceId;
    final Process process;
    final Path log;

    ServiceProcess(String service, String instanceId, Process process, Path log) {
      this.service = service;
      this.instanceId = instanceId;
      this.process = process;
      this.log = log;
    }

    /** {@code kill -9}: no shutdown hook, no commit, no leave-group. */
    void kill() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** SIGTERM; returns how long the process took to exit. */
    Duration terminate(Duration timeout) {
      long start = System.nanoTime();
      process.destroy();
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new AssertionError(instanceId + " did not exit within " + timeout + " of SIGTERM; log:\n" + tail(40));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Duration.ofNanos(System.nanoTime() - start);
    }

    boolean alive() {
      return process.isAlive();
    }

    String output() {
      try {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      } catch (IOException e) {
        return "";
      }
    }

    String tail(int lines) {
      List<String> all = output().lines().toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Waits until the process has printed {@code text}; fails early if it exits. */
    void awaitOutput(String text, Duration timeout) {
      await(instanceId + " to print '" + text + "'", timeout, () -> {
        if (output().contains(text)) {
          return true;
        }
        if (!process.isAlive()) {
          throw new AssertionError(instanceId + " exited with " + process.exitValue() + "; log:\n" + tail(60));
        }
        return false;
      });
    }
  }
}
