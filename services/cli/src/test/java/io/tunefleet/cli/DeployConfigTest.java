package io.tunefleet.cli;

import static io.tunefleet.cli.DeployFilesSupport.environment;
import static io.tunefleet.cli.DeployFilesSupport.get;
import static io.tunefleet.cli.DeployFilesSupport.list;
import static io.tunefleet.cli.DeployFilesSupport.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.config.Setting;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.ml.train.CpuPartition;
import io.tunefleet.trainer.TrainerVerticle;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One list of configuration variables: the FLEET_* settings that docker-compose.yml, the Dockerfile
 * and the Kubernetes manifests set are the ones the services read (FleetConfig), the README documents
 * every one of them, and compose and Kubernetes agree on the settings they share (partitions, topic
 * prefix, blob store path, metrics ports, scaling limits). Where the tools are installed it also runs
 * deploy/prometheus/check.sh (promtool) and deploy/k8s/check.sh (kustomize + offline schema validation).
 */
class DeployConfigTest {
  private static final Pattern FLEET_VARIABLE = Pattern.compile("\\bFLEET_[A-Z0-9_]+");
  private static final String KAFKA_PASS_THROUGH = "FLEET_KAFKA_";
  /** Settings that must be equal wherever the fleet runs; the others (bootstrap, replication, device) differ by design. */
  private static final List<Setting> SHARED = List.of(FleetConfig.PARTITIONS, FleetConfig.TOPIC_PREFIX, FleetConfig.BLOB_ROOT,
      FleetConfig.DATA_ROOTS);
  private static final String COMMAND_PREFIX = "[java, -cp, /app/fleet.jar:/app/lib/*, io.tunefleet.cli.Fleet, run, ";

  /** Variables the libtorch services read for the whole process, outside {@link FleetConfig}. */
  private static final List<String> PROCESS_SETTINGS = List.of(CpuPartition.VARIABLE);

  private static Set<String> settingKeys() {
    Set<String> keys = new HashSet<>(PROCESS_SETTINGS);
    FleetConfig.ALL.forEach(s -> keys.add(s.key()));
    return keys;
  }

  private static Map<String, String> configMap() {
    Map<String, Object> cm = DeployFilesSupport.kubernetesObject("base/configmap.yaml", "ConfigMap", "fleet-config");
    Map<String, String> data = new LinkedHashMap<>();
    map(cm, "data").forEach((k, v) -> data.put(k, String.valueOf(v)));
    return data;
  }

  private static Map<String, Object> deployment(String service) {
    return DeployFilesSupport.kubernetesObject("base/" + service + ".yaml", "Deployment", service);
  }

  private static Map<String, Object> container(String service) {
    return map(deployment(service), "spec", "template", "spec", "containers", 0);
  }

  private static Map<String, String> containerEnv(String service) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container(service), "env")) {
      Map<?, ?> m = (Map<?, ?>) e;
      env.put(String.valueOf(m.get("name")), m.get("value") == null ? null : String.valueOf(m.get("value")));
    }
    return env;
  }

  @Test
  void everyFleetVariableTheDeploymentFilesSetIsOneTheServicesRead() throws Exception {
    Path root = DeployFilesSupport.root();
    List<Path> files = new ArrayList<>(List.of(root.resolve("docker-compose.yml"), root.resolve("Dockerfile"),
        root.resolve("deploy/README.md")));
    files.addAll(DeployFilesSupport.kubernetesFiles());
    Set<String> known = settingKeys();
    Map<String, Set<String>> unknown = new TreeMap<>();
    int seen = 0;
    for (Path file : files) {
      if (!Files.exists(file)) {
        continue;
      }
      Matcher m = FLEET_VARIABLE.matcher(DeployFilesSupport.text(file));
      while (m.find()) {
        seen++;
        String name = m.group();
        if (!known.contains(name) && !name.startsWith(KAFKA_PASS_THROUGH)) {
          unknown.computeIfAbsent(name, n -> new TreeSet<>()).add(root.relativize(file).toString());
        }
      }
    }
    assertTrue(seen > 20, "FLEET_* variables found in the deployment files: " + seen);
    assertTrue(unknown.isEmpty(), "variables no service reads (FleetConfig.ALL, or FLEET_KAFKA_* pass-through): " + unknown);
  }

  @Test
  void theReadmeDocumentsEverySetting() {
    Path readme = DeployFilesSupport.root().resolve("README.md");
    assumeTrue(Files.exists(readme), "README.md does not exist yet: the configuration reference cannot be checked");
    String text = DeployFilesSupport.text(readme);
    List<String> missing = java.util.stream.Stream.concat(FleetConfig.ALL.stream().map(Setting::key), PROCESS_SETTINGS.stream())
        .filter(k -> !text.contains(k)).toList();
    assertTrue(missing.isEmpty(), "settings FleetConfig.ALL (or a process setting) has and README.md does not document: " + missing);
    assertTrue(text.contains(KAFKA_PASS_THROUGH), "README.md should explain the FLEET_KAFKA_* pass-through");
  }

  @Test
  void composeAndKubernetesRunTheSameServicesWithTheSameSharedSettings() {
    Map<String, Map<String, Object>> compose = DeployFilesSupport.composeServices();
    Map<String, String> configMap = configMap();
    assertTrue(configMap.keySet().stream().allMatch(k -> settingKeys().contains(k) || k.startsWith(KAFKA_PASS_THROUGH)),
        "fleet-config keys: " + configMap.keySet());
    Map<String, Object> promCompose = DeployFilesSupport.yaml(DeployFilesSupport.root().resolve("deploy/prometheus/prometheus-compose.yml"));
    for (String service : LocalFleet.SERVICES.keySet()) {
      Map<String, Object> composed = compose.get(service);
      assertNotNull(composed, "docker-compose.yml has no service " + service);
      Map<String, String> env = environment(composed);
      for (Setting s : SHARED) {
        assertEquals(configMap.get(s.key()), env.get(s.key()), service + ": " + s.key() + " in compose vs the ConfigMap");
      }
      assertEquals(COMMAND_PREFIX + service + "]", String.valueOf(composed.get("command")), "compose command of " + service);
      assertEquals(COMMAND_PREFIX + service + "]", String.valueOf(container(service).get("command")), "k8s command of " + service);

      // one metrics port per service, as in local mode, everywhere it is named
      String port = String.valueOf(LocalFleet.PORTS.get(service));
      assertEquals(port, env.get(FleetConfig.METRICS_PORT.key()), "compose " + service);
      assertEquals(port, containerEnv(service).get(FleetConfig.METRICS_PORT.key()), "k8s " + service);
      assertEquals(port, String.valueOf(get(deployment(service), "spec", "template", "metadata", "annotations", "prometheus.io/port")),
          "prometheus.io/port of " + service);
      assertEquals(port, String.valueOf(get(container(service), "ports", 0, "containerPort")), "containerPort of " + service);
      Object scrape = list(promCompose, "scrape_configs").stream().filter(j -> service.equals(get(j, "job_name"))).findFirst()
          .orElseThrow(() -> new AssertionError("prometheus-compose.yml has no job " + service));
      assertEquals(port, String.valueOf(get(scrape, "dns_sd_configs", 0, "port")), "prometheus-compose.yml port of " + service);

      String blobRoot = configMap.get(FleetConfig.BLOB_ROOT.key());
      if (blobRoot.startsWith("s3://")) {
        // the blob store is object storage: each service is told the endpoint and given credentials, and mounts
        // no shared volume (components/shared-volume brings that back)
        assertFalse(String.valueOf(env.get(FleetConfig.S3_ENDPOINT.key())).isBlank(), "compose " + service + " S3 endpoint");
        assertTrue(env.containsKey("AWS_ACCESS_KEY_ID") && env.containsKey("AWS_SECRET_ACCESS_KEY"), "compose " + service
            + " S3 credentials");
        assertEquals("fleet-s3-credentials", get(container(service), "envFrom", 1, "secretRef", "name"),
            "k8s " + service + " takes S3 credentials from the Secret");
        assertTrue(list(container(service), "volumeMounts").stream().noneMatch(v -> "blobs".equals(get(v, "name"))),
            "k8s " + service + " mounts no blob volume with an S3 blob store");
      } else {
        // the blob store is mounted where FLEET_BLOB_ROOT says, in compose and in Kubernetes
        assertTrue(list(composed, "volumes").stream().anyMatch(v -> String.valueOf(v).endsWith(":" + blobRoot)),
            service + " mounts no volume at " + blobRoot + ": " + composed.get("volumes"));
        assertTrue(list(container(service), "volumeMounts").stream().anyMatch(v -> blobRoot.equals(get(v, "mountPath"))),
            "k8s " + service + " mounts nothing at " + blobRoot);
      }
      assertEquals("fleet-config", get(container(service), "envFrom", 0, "configMapRef", "name"), service + " reads fleet-config");
    }
    Map<String, String> gpu = environment(compose.get("trainer-gpu"));
    for (Setting s : SHARED) {
      assertEquals(configMap.get(s.key()), gpu.get(s.key()), "trainer-gpu: " + s.key());
    }
    assertEquals(COMMAND_PREFIX + TrainerVerticle.NAME + "]", String.valueOf(compose.get("trainer-gpu").get("command")));
  }

  @Test
  void scalingAndTopicsFollowThePartitionCount() {
    Map<String, String> configMap = configMap();
    int partitions = Integer.parseInt(configMap.get(FleetConfig.PARTITIONS.key()));
    String prefix = configMap.get(FleetConfig.TOPIC_PREFIX.key());
    Topics topics = new Topics(FleetConfig.load(new JsonObject().put(FleetConfig.TOPIC_PREFIX.key(), prefix), Map.of()));

    Map<String, Object> scaled = DeployFilesSupport.kubernetesObject("base/keda-scaledobject.yaml", "ScaledObject", "trainer");
    assertEquals(partitions, get(scaled, "spec", "maxReplicaCount"), "KEDA: replicas beyond the partition count idle");
    assertEquals("trainer", get(scaled, "spec", "scaleTargetRef", "name"));
    Map<String, Object> trigger = map(scaled, "spec", "triggers", 0, "metadata");
    assertEquals(topics.batches, trigger.get("topic"), "KEDA scales on the lag of the batches topic");
    assertEquals(prefix + "." + TrainerVerticle.NAME, trigger.get("consumerGroup"), "the trainers' consumer group is PREFIX.trainer");
    assertEquals(FleetConfig.BOOTSTRAP_SERVERS.key(), trigger.get("bootstrapServersFromEnv"));

    Map<String, Object> hpa = DeployFilesSupport.kubernetesObject("components/hpa/trainer-hpa.yaml", "HorizontalPodAutoscaler", "trainer");
    assertEquals(partitions, get(hpa, "spec", "maxReplicas"), "HPA: replicas beyond the partition count idle");

    Set<String> topicNames = new TreeSet<>();
    for (Map.Entry<Path, Map<String, Object>> e : DeployFilesSupport.kubernetesObjects()) {
      if ("KafkaTopic".equals(e.getValue().get("kind"))) {
        assertEquals(partitions, get(e.getValue(), "spec", "partitions"), "partitions of " + get(e.getValue(), "metadata", "name"));
        topicNames.add(String.valueOf(get(e.getValue(), "spec", "topicName")));
      }
    }
    assertEquals(new TreeSet<>(topics.all()), topicNames, "Strimzi KafkaTopics are the fleet's topics");
    Map<String, Object> strimziConfig = DeployFilesSupport.kubernetesObject("components/strimzi/bootstrap.yaml", "ConfigMap", "fleet-config");
    Map<String, Object> kafka = DeployFilesSupport.kubernetesObject("components/strimzi/kafka.yaml", "Kafka", "tunefleet");
    assertEquals(get(kafka, "metadata", "name") + "-kafka-bootstrap:" + get(kafka, "spec", "kafka", "listeners", 0, "port"),
        get(strimziConfig, "data", FleetConfig.BOOTSTRAP_SERVERS.key()), "FLEET_BOOTSTRAP_SERVERS names the Strimzi bootstrap service");

    Map<String, String> compose = environment(DeployFilesSupport.composeServices().get(TrainerVerticle.NAME));
    assertEquals(String.valueOf(partitions), compose.get(FleetConfig.PARTITIONS.key()));
    assertFalse(DeployFilesSupport.composeServices().containsKey("kafka") && compose.get(FleetConfig.BOOTSTRAP_SERVERS.key()).isBlank(),
        "compose services must name the compose broker");
  }

  @Test
  void promtoolAcceptsBothScrapeConfigsAndTheAlertsPassTheirUnitTests() throws Exception {
    assumeTrue(onPath("promtool"), "promtool not installed (apt-get install prometheus)");
    String out = run(DeployFilesSupport.root().resolve("deploy/prometheus/check.sh"), 120);
    assertTrue(out.contains("all promtool checks passed"), out);
  }

  @Test
  void everyOverlayRendersAndValidatesOfflineAsDoesTheComposeFile() throws Exception {
    assumeTrue(onPath("kubectl") || onPath("kustomize"), "neither kubectl nor kustomize installed");
    assumeTrue(onPath("node") && onPath("npm"), "Node.js and npm not installed");
    String out = run(DeployFilesSupport.root().resolve("deploy/k8s/check.sh"), 300);
    assertTrue(out.contains("manifests and compose file valid"), out);
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  /** Runs a check script; its output, or a failure with the output when it exits non-zero. */
  private static String run(Path script, int timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile("deploy-check", ".log");
    try {
      Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly().waitFor();
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertTrue(done, script + " did not finish in " + timeoutSeconds + " s:\n" + out);
      assertEquals(0, p.exitValue(), script + " failed:\n" + out);
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
