package io.tunefleet.cli;

import io.tunefleet.augmenter.AugmenterVerticle;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.local.EmbeddedKafka;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.distiller.DistillerVerticle;
import io.tunefleet.evaluator.EvaluatorVerticle;
import io.tunefleet.ml.train.CpuPartition;
import io.tunefleet.trainer.TrainerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Local mode: one embedded KRaft broker (unless an external cluster is configured) and the four
 * services, each its own verticle with its own config and metrics port, in this JVM.
 */
public final class LocalFleet implements AutoCloseable {
  /** The services in start order, with their default metrics ports in local mode. */
  public static final Map<String, Supplier<ServiceVerticle>> SERVICES = new LinkedHashMap<>();
  public static final Map<String, Integer> PORTS = Map.of(AugmenterVerticle.NAME, 9401, TrainerVerticle.NAME, 9402,
      EvaluatorVerticle.NAME, 9403, DistillerVerticle.NAME, 9404);

  static {
    SERVICES.put(AugmenterVerticle.NAME, AugmenterVerticle::new);
    SERVICES.put(TrainerVerticle.NAME, TrainerVerticle::new);
    SERVICES.put(EvaluatorVerticle.NAME, EvaluatorVerticle::new);
    SERVICES.put(DistillerVerticle.NAME, DistillerVerticle::new);
  }

  private final FleetConfig config;
  private final EmbeddedKafka broker;
  private final Vertx vertx;
  private final List<String> deployments = new ArrayList<>();
  private final Map<String, ServiceVerticle> verticles = new LinkedHashMap<>();

  private LocalFleet(FleetConfig config, EmbeddedKafka broker, Vertx vertx) {
    this.config = config;
    this.broker = broker;
    this.vertx = vertx;
  }

  /**
   * Starts the broker (when {@code FLEET_BOOTSTRAP_SERVERS} is empty) and the services.
   *
   * @param metricsPorts use the fixed ports 9401..9404 (false: any free port, for tests)
   */
  public static LocalFleet start(FleetConfig config, boolean metricsPorts) {
    CpuPartition.apply(); // FLEET_TORCH_CPUS: before the broker starts, so that it runs on the CPUs left over
    EmbeddedKafka broker = null;
    FleetConfig effective = config;
    if (config.bootstrapServers().isBlank()) {
      broker = new EmbeddedKafka(config.localStateDir().resolve("kafka-" + ProcessHandle.current().pid()), 0,
          config.getInt(FleetConfig.PARTITIONS)).start();
      effective = config.with(FleetConfig.BOOTSTRAP_SERVERS.key(), broker.bootstrapServers());
    }
    new Topics(effective).create(effective);
    LocalFleet fleet = new LocalFleet(effective, broker, Vertx.vertx());
    try {
      for (Map.Entry<String, Supplier<ServiceVerticle>> s : SERVICES.entrySet()) {
        JsonObject cfg = new JsonObject()
            .put(FleetConfig.BOOTSTRAP_SERVERS.key(), effective.bootstrapServers())
            .put(FleetConfig.BLOB_ROOT.key(), effective.get(FleetConfig.BLOB_ROOT))
            .put(FleetConfig.S3_ENDPOINT.key(), effective.get(FleetConfig.S3_ENDPOINT))
            .put(FleetConfig.S3_REGION.key(), effective.get(FleetConfig.S3_REGION))
            .put(FleetConfig.PRESIGN_SECONDS.key(), effective.getInt(FleetConfig.PRESIGN_SECONDS))
            .put(FleetConfig.KEEP_CHECKPOINTS.key(), effective.get(FleetConfig.KEEP_CHECKPOINTS))
            .put(FleetConfig.DATA_ROOTS.key(), effective.get(FleetConfig.DATA_ROOTS))
            .put(FleetConfig.TOPIC_PREFIX.key(), effective.get(FleetConfig.TOPIC_PREFIX))
            .put(FleetConfig.PARTITIONS.key(), effective.getInt(FleetConfig.PARTITIONS))
            .put(FleetConfig.METRICS_PORT.key(), metricsPorts ? portOrAny(s.getKey()) : 0);
        ServiceVerticle v = s.getValue().get();
        fleet.deployments.add(fleet.vertx.deployVerticle(v, new DeploymentOptions().setConfig(cfg))
            .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS));
        fleet.verticles.put(s.getKey(), v);
      }
      fleet.writeBootstrapFile();
      return fleet;
    } catch (Exception e) {
      fleet.close();
      throw new IllegalStateException("cannot start the local fleet: " + e.getMessage(), e);
    }
  }

  /** The service's usual local port, or any free one when another fleet already uses it. */
  private static int portOrAny(String service) {
    int port = PORTS.get(service);
    try (java.net.ServerSocket s = new java.net.ServerSocket(port)) {
      return port;
    } catch (IOException e) {
      System.err.println("fleet: port " + port + " is taken (another fleet?); " + service + " serves /metrics on a free port");
      return 0;
    }
  }

  /** Lets `fleet submit/status/watch` in another terminal find the local broker. */
  private void writeBootstrapFile() throws IOException {
    Files.createDirectories(config.localStateDir());
    Files.writeString(bootstrapFile(config), config.bootstrapServers(), StandardCharsets.UTF_8);
  }

  static Path bootstrapFile(FleetConfig config) {
    return config.localStateDir().resolve("local-bootstrap");
  }

  public FleetConfig config() {
    return config;
  }

  public String bootstrapServers() {
    return config.bootstrapServers();
  }

  public EmbeddedKafka broker() {
    return broker;
  }

  public Map<String, ServiceVerticle> services() {
    return verticles;
  }

  /** Stops the services (each commits and leaves its group), then the broker. */
  @Override
  public void close() {
    for (int i = deployments.size() - 1; i >= 0; i--) {
      try {
        vertx.undeploy(deployments.get(i)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("fleet: stopping a service failed: " + e);
      }
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway
    }
    if (broker != null) {
      broker.close();
      try {
        Files.deleteIfExists(bootstrapFile(config));
      } catch (IOException e) {
        // best effort
      }
    }
  }
}
