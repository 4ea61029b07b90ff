package io.tunefleet.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker + controller) started from Kafka's own jars
 * in a child JVM — its own process, so its dependencies never meet the services' and it can be killed
 * or restarted like a real broker. Used by local mode ({@code fleet up}, {@code fleet demo}) and by the
 * integration tests when no Docker engine is available.
 *
 * <p>The child JVM runs on this JVM's class path, which must hold the broker's jars
 * ({@code org.apache.kafka:kafka_2.13} and an SLF4J binding for its log). This module declares them
 * optional: whatever runs a broker adds them, and the services' image, which never does, leaves them out.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String BROKER_MAIN = "kafka.Kafka";

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private final int partitions;
  private final Properties overrides = new Properties();
  private Process process;

  public EmbeddedKafka(Path dir, int port, int partitions) {
    this.dir = dir.toAbsolutePath();
    this.port = port == 0 ? freePort() : port;
    // two ports asked of the OS one after the other can be the same one: the first socket is closed by then
    this.controllerPort = portOtherThan(this.port, EmbeddedKafka::freePort);
    this.partitions = partitions;
  }

  /** A broker in a fresh temporary folder on free ports. */
  public static EmbeddedKafka temporary(int partitions) {
    try {
      return new EmbeddedKafka(Files.createTempDirectory("fleet-kafka"), 0, partitions);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sets a broker property over the defaults below (takes effect at the next {@link #start()}). */
  public EmbeddedKafka brokerProperty(String key, String value) {
    overrides.setProperty(key, value);
    return this;
  }

  /** The broker's process id, or -1 when it is not running. */
  public long pid() {
    return process != null && process.isAlive() ? process.pid() : -1;
  }

  public String bootstrapServers() {
    return "localhost:" + port;
  }

  public Path logFile() {
    return dir.resolve("broker.log");
  }

  /** Formats the storage (first start only), starts the broker and waits until it answers. */
  public EmbeddedKafka start() {
    requireBrokerJars(ClassLoader.getSystemClassLoader());
    try {
      Files.createDirectories(dir);
      Path config = writeConfig();
      if (!Files.exists(dir.resolve("data/meta.properties"))) {
        run(List.of("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c", config.toString()),
            Duration.ofSeconds(60));
      }
      List<String> cmd = javaCommand();
      cmd.add(BROKER_MAIN);
      cmd.add(config.toString());
      process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile())).start();
      awaitReady(Duration.ofSeconds(90));
      LOG.info("embedded Kafka broker ready on {} (pid {}, log {})", bootstrapServers(), process.pid(), logFile());
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded Kafka broker: " + e.getMessage(), e);
    }
  }

  /**
   * Fails with a reason a person can act on when the class path that the child JVM inherits has no broker: without
   * this check the broker would die with a bare ClassNotFoundException in its log.
   */
  static void requireBrokerJars(ClassLoader classPath) {
    if (classPath.getResource(BROKER_MAIN.replace('.', '/') + ".class") == null) {
      throw new IllegalStateException("cannot start the embedded Kafka broker: its jars (org.apache.kafka:kafka_2.13) "
          + "are not on this class path, as in the services' image; point FLEET_BOOTSTRAP_SERVERS at a Kafka cluster, "
          + "or run the `fleet` script of a source checkout, which brings them");
    }
  }

  private Path writeConfig() throws IOException {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
    p.put("listeners", "PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.resolve("data").toString());
    p.put("num.partitions", Integer.toString(partitions));
    p.put("auto.create.topics.enable", "false");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "6");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // with FLEET_KAFKA_GROUP_PROTOCOL=consumer (KIP-848) the session is the broker's: 10 s, as the classic default
    p.put("group.consumer.session.timeout.ms", "10000");
    p.put("group.consumer.min.session.timeout.ms", "6000");
    p.put("group.consumer.heartbeat.interval.ms", "2000");
    p.put("group.consumer.min.heartbeat.interval.ms", "1000");
    p.put("log.flush.interval.messages", "1");
    p.putAll(overrides);
    Path file = dir.resolve("server.properties");
    try (var out = Files.newBufferedWriter(file)) {
      p.store(out, "embedded TuneFleet broker");
    }
    return file;
  }

  private static List<String> javaCommand() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    return cmd;
  }

  private void run(List<String> mainAndArgs, Duration timeout) throws IOException {
    List<String> cmd = javaCommand();
    cmd.addAll(mainAndArgs);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile())).start();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException(mainAndArgs.get(0) + " failed" + lastError(logFile()) + "; see " + logFile());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("the broker exited with " + process.exitValue() + lastError(logFile()) + "; see " + logFile());
      }
      if (!portOpen()) {
        sleep(200);
        continue;
      }
      try (Admin admin = Admin.create(props)) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        sleep(200);
      }
    }
    throw new IOException("the broker did not become ready in " + timeout + "; see " + logFile());
  }

  /** ": " and the last line of {@code log} that is not part of a stack trace, or nothing without a log. */
  static String lastError(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = lines.size() - 1; i >= 0; i--) {
        String line = lines.get(i);
        if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
          return ": " + line.strip();
        }
      }
    } catch (IOException e) {
      // no log (or not text): the caller names the file anyway
    }
    return "";
  }

  /** Stops the broker (SIGTERM, then SIGKILL after 20 s). The data folder stays, so it can start again. */
  public void stop() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Kills the broker at once, as a crash would. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** The first port {@code candidates} gives that is not {@code taken}. */
  static int portOtherThan(int taken, IntSupplier candidates) {
    for (int i = 0; i < 100; i++) {
      int candidate = candidates.getAsInt();
      if (candidate != taken) {
        return candidate;
      }
    }
    throw new IllegalStateException("no free port other than " + taken + " after 100 tries");
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean portOpen() {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("localhost", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

}
