package io.tunefleet.common.config;

import io.tunefleet.common.blob.S3Location;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The fleet's configuration: every setting below, each read (highest first) from the service's JSON
 * config, a {@code -D} system property or a {@code FLEET_*} environment variable, else its default.
 * Invalid values are reported all at once, each naming its setting. Kafka client properties pass
 * through as {@code FLEET_KAFKA_<PROPERTY>} (e.g. {@code FLEET_KAFKA_SECURITY_PROTOCOL=SASL_SSL}).
 */
public final class FleetConfig {
  public static final Setting BOOTSTRAP_SERVERS = Setting.string("FLEET_BOOTSTRAP_SERVERS",
      "Kafka bootstrap servers; empty in local mode starts an embedded single-node KRaft broker", "");
  public static final Setting BLOB_ROOT = new Setting("FLEET_BLOB_ROOT",
      "Blob store (batches, checkpoints, models), shared by all services: a folder, or s3://BUCKET/PREFIX for "
          + "S3-compatible object storage", ".fleet", FleetConfig::blobRootProblem);
  public static final Setting S3_ENDPOINT = new Setting("FLEET_S3_ENDPOINT",
      "S3 endpoint for MinIO, Ceph RGW or a test server (http(s)://HOST:PORT; path-style addressing); empty = AWS S3",
      "", FleetConfig::endpointProblem);
  public static final Setting S3_REGION = Setting.string("FLEET_S3_REGION",
      "S3 region; empty = the AWS SDK's (AWS_REGION, profile), or us-east-1 with FLEET_S3_ENDPOINT", "");
  public static final Setting PRESIGN_SECONDS = Setting.integer("FLEET_PRESIGN_SECONDS",
      "With an S3 blob store: each finished model file also gets a presigned HTTPS URL valid this long (0 = none)",
      0, 0, 604800);
  public static final Setting KEEP_CHECKPOINTS = Setting.oneOf("FLEET_KEEP_CHECKPOINTS",
      "Checkpoints kept when a job finishes: best-and-last (each phase's best and last epoch) or all",
      "best-and-last", "best-and-last", "all");
  public static final Setting DATA_ROOTS = new Setting("FLEET_DATA_ROOTS",
      "Colon-separated folders that datasets and base models may be read from (besides the blob root), and "
          + "s3://BUCKET/PREFIX prefixes that image folders and CSV manifests may be read from", "datasets",
      FleetConfig::dataRootsProblem);
  public static final Setting PARTITIONS = Setting.integer("FLEET_PARTITIONS",
      "Partitions of every job-keyed topic (the most replicas a service can use)", 6, 1, 1000);
  public static final Setting REPLICATION = Setting.integer("FLEET_REPLICATION_FACTOR",
      "Replication factor of the topics the fleet creates", 1, 1, 10);
  public static final Setting TOPIC_PREFIX = Setting.string("FLEET_TOPIC_PREFIX",
      "Prefix of every topic name and consumer group (fleet.requests, fleet.trainer, …)", "fleet");
  public static final Setting METRICS_PORT = Setting.integer("FLEET_METRICS_PORT",
      "HTTP port of /metrics, /health and /ready (0 = any free port; local mode uses 9401..9404)", 0, 0, 65535);
  public static final Setting DEVICE = Setting.oneOf("FLEET_DEVICE",
      "Where training runs: auto (GPU when present), cpu or gpu", "auto", "auto", "cpu", "gpu");
  public static final Setting INSTANCE_ID = Setting.string("FLEET_INSTANCE_ID",
      "Name of this replica in logs, metrics and job statuses (default: service-pid)", "");

  public static final Setting AUGMENT_THREADS = Setting.integer("FLEET_AUGMENT_THREADS",
      "Threads of the data-augmenter that decode, crop and augment one job's batches (default: the processors the JVM "
          + "sees, a container's CPU limit included)", Runtime.getRuntime().availableProcessors(), 1, 1024);
  public static final Setting EVAL_CACHE_MB = Setting.integer("FLEET_EVAL_CACHE_MB",
      "MiB of decoded validation pixels the evaluator keeps between evaluations (default: a quarter of the JVM's heap); "
          + "a larger split is read from the blob store shard by shard", (int) Math.max(16, Runtime.getRuntime().maxMemory() / 4 >> 20),
      0, 1 << 20);

  public static final List<Setting> ALL = List.of(BOOTSTRAP_SERVERS, BLOB_ROOT, S3_ENDPOINT, S3_REGION, PRESIGN_SECONDS,
      KEEP_CHECKPOINTS, DATA_ROOTS, PARTITIONS, REPLICATION, TOPIC_PREFIX, METRICS_PORT, DEVICE, INSTANCE_ID,
      AUGMENT_THREADS, EVAL_CACHE_MB);

  /** Where local state goes (the embedded broker's log, the local-bootstrap file) when the blob store is S3. */
  static final String LOCAL_STATE_DIR = ".fleet";

  private static final String KAFKA_PREFIX = "FLEET_KAFKA_";

  private final Map<String, String> values;
  private final Properties kafka;

  private FleetConfig(Map<String, String> values, Properties kafka) {
    this.values = values;
    this.kafka = kafka;
  }

  /** Environment and system properties only. */
  public static FleetConfig fromEnvironment() {
    return load(new JsonObject(), System.getenv());
  }

  public static FleetConfig load(JsonObject overrides, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Setting s : ALL) {
      String v = overrides.containsKey(s.key()) ? String.valueOf(overrides.getValue(s.key()))
          : System.getProperty(s.key(), env.getOrDefault(s.key(), s.defaultValue()));
      String problem = s.validator().apply(v);
      if (problem != null) {
        problems.add(s.key() + ": " + problem);
      }
      values.put(s.key(), v);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
    }
    Properties kafka = new Properties();
    Map<String, String> all = new LinkedHashMap<>(env);
    for (String name : System.getProperties().stringPropertyNames()) {
      all.put(name, System.getProperty(name));
    }
    overrides.forEach(e -> all.put(e.getKey(), String.valueOf(e.getValue())));
    all.forEach((k, v) -> {
      if (k.startsWith(KAFKA_PREFIX)) {
        kafka.put(k.substring(KAFKA_PREFIX.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.'), v);
      }
    });
    return new FleetConfig(values, kafka);
  }

  /** A copy with some settings replaced (local mode and tests). */
  public FleetConfig with(String key, Object value) {
    Map<String, String> copy = new LinkedHashMap<>(values);
    copy.put(key, String.valueOf(value));
    return new FleetConfig(copy, kafka);
  }

  public String get(Setting s) {
    return values.get(s.key());
  }

  public int getInt(Setting s) {
    return Integer.parseInt(values.get(s.key()).trim());
  }

  public String bootstrapServers() {
    return get(BOOTSTRAP_SERVERS);
  }

  /** Whether FLEET_BLOB_ROOT names S3 ({@code s3://BUCKET/PREFIX}) rather than a folder. */
  public boolean blobsOnS3() {
    return S3Location.isS3(get(BLOB_ROOT).trim());
  }

  /** The blob store's folder; only for a folder store ({@link #blobsOnS3()} false). */
  public Path blobRoot() {
    if (blobsOnS3()) {
      throw new IllegalStateException("FLEET_BLOB_ROOT is " + get(BLOB_ROOT) + ": the blob store has no local folder");
    }
    return Path.of(get(BLOB_ROOT)).toAbsolutePath().normalize();
  }

  /**
   * The local folder of this machine's state: the embedded broker's log and the local-bootstrap file. The blob
   * root when it is a folder, else {@code .fleet}.
   */
  public Path localStateDir() {
    return blobsOnS3() ? Path.of(LOCAL_STATE_DIR).toAbsolutePath().normalize() : blobRoot();
  }

  /** The folders datasets and base models may be read from: FLEET_DATA_ROOTS, and the blob root when it is a folder. */
  public List<Path> dataRoots() {
    List<Path> roots = new ArrayList<>();
    for (String r : dataRootEntries(get(DATA_ROOTS))) {
      if (!S3Location.isS3(r)) {
        roots.add(Path.of(r).toAbsolutePath().normalize());
      }
    }
    if (!blobsOnS3()) {
      roots.add(blobRoot());
    }
    return roots.stream().distinct().toList();
  }

  /** The object-storage prefixes of FLEET_DATA_ROOTS that datasets may be read from, each {@code s3://BUCKET/PREFIX/}. */
  public List<S3Location> objectDataRoots() {
    return dataRootEntries(get(DATA_ROOTS)).stream().filter(S3Location::isS3)
        .map(r -> S3Location.parse(r).asFolder()).distinct().toList();
  }

  /**
   * The entries of a colon-separated FLEET_DATA_ROOTS, where the colon of an {@code s3://} scheme separates
   * nothing: {@code datasets:s3://photos/teams} is a folder and a prefix.
   */
  static List<String> dataRootEntries(String value) {
    List<String> entries = new ArrayList<>();
    String[] parts = value.split(":", -1);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i].trim();
      if (part.equalsIgnoreCase("s3") && i + 1 < parts.length && parts[i + 1].startsWith("//")) {
        part = part + ":" + parts[++i].trim();
      }
      if (!part.isEmpty()) {
        entries.add(part);
      }
    }
    return entries;
  }

  private static String dataRootsProblem(String value) {
    List<String> problems = new ArrayList<>();
    for (String r : dataRootEntries(value == null ? "" : value)) {
      if (S3Location.isS3(r)) {
        try {
          S3Location.parse(r);
        } catch (IllegalArgumentException e) {
          problems.add(e.getMessage());
        }
      }
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private static String blobRootProblem(String value) {
    if (value == null || value.isBlank()) {
      return "must name a folder or an s3://BUCKET/PREFIX URI";
    }
    if (!S3Location.isS3(value.trim())) {
      return null;
    }
    try {
      S3Location.parse(value.trim());
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  private static String endpointProblem(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      java.net.URI u = new java.net.URI(value.trim());
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
        return "must be an http:// or https:// URL with a host (e.g. http://minio:9000), was '" + value + "'";
      }
      return null;
    } catch (java.net.URISyntaxException e) {
      return "'" + value + "' is not a valid URL: " + e.getReason();
    }
  }

  public String topic(String name) {
    return get(TOPIC_PREFIX) + "." + name;
  }

  /**
   * The consumer group of a service: {@code PREFIX.service} (e.g. fleet.trainer), so that two fleets with
   * different topic prefixes on one cluster never share, and rebalance, each other's groups.
   */
  public String consumerGroup(String service) {
    return get(TOPIC_PREFIX) + "." + service;
  }

  /** Extra Kafka client properties (TLS, SASL, …) from {@code FLEET_KAFKA_*}. Never logged: may hold secrets. */
  public Properties kafkaClientProperties() {
    Properties copy = new Properties();
    copy.putAll(kafka);
    return copy;
  }

  /** Settings as documented, for the README and for `fleet config`. */
  public static String describe() {
    StringBuilder sb = new StringBuilder();
    for (Setting s : ALL) {
      sb.append(s.key()).append(" (default '").append(s.defaultValue()).append("'): ").append(s.description()).append('\n');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return values.toString();
  }

  static List<String> keys() {
    return Arrays.asList(ALL.stream().map(Setting::key).toArray(String[]::new));
  }
}
