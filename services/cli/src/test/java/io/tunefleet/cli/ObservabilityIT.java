package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local fleet runs two small jobs while a real Prometheus scrapes its four services with the compose
 * stack's scrape configuration and evaluates the alert rules. Asserts through Prometheus' HTTP API that
 * the key series are there and move, and that every metric a dashboard or alert queries is exported,
 * so that no panel can silently go blank.
 */
@Tag("integration")
class ObservabilityIT {
  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
  /** Micrometer's Kafka binder looks for new client metrics (per-partition lag) once a minute. */
  private static final Duration KAFKA_METRICS_TIMEOUT = Duration.ofSeconds(150);

  @TempDir static Path tmp;
  static LocalFleet fleet;
  static FleetClient client;
  static PrometheusSupport prometheus;
  static String prefix;
  static double stepsAfterFirstJob;
  static double stepsAfterSecondJob;
  static final Set<String> exported = new TreeSet<>();
  static final String FIRST = "obs-first";
  static final String SECOND = "obs-second";

  @BeforeAll
  static void runTwoJobsUnderARealPrometheus() throws Exception {
    assumeTrue(PrometheusSupport.available(), "no Prometheus at " + PrometheusSupport.BINARY + " (apt-get install prometheus)");
    long started = System.nanoTime();
    Path blobs = tmp.resolve("blobs");
    prefix = "obs" + UUID.randomUUID().toString().substring(0, 8);
    fleet = LocalFleet.start(FleetConfig.load(new JsonObject()
        .put(FleetConfig.BLOB_ROOT.key(), blobs.toString())
        .put(FleetConfig.DATA_ROOTS.key(), FleetTestSupport.datasets() + ":" + blobs)
        .put(FleetConfig.TOPIC_PREFIX.key(), prefix), Map.of()), false);
    client = new FleetClient(fleet.config());
    Map<String, Integer> ports = new LinkedHashMap<>();
    fleet.services().forEach((name, verticle) -> ports.put(name, verticle.httpPort()));
    Path deploy = MetricNamesSupport.repositoryRoot().resolve("deploy/prometheus");
    prometheus = PrometheusSupport.start(tmp.resolve("prometheus"),
        PrometheusSupport.localConfig(deploy.resolve("prometheus-compose.yml"), deploy.resolve("alerts.yml"), ports));
    prometheus.await("all four services to be scraped", Duration.ofSeconds(30),
        () -> prometheus.query("up == 1").size() == 4 ? true : null);

    runJob(FIRST);
    stepsAfterFirstJob = prometheus.await("the first job's steps in Prometheus", Duration.ofSeconds(30), () -> {
      double v = prometheus.value("sum(fleet_trainer_steps_total)");
      return v > 0 && v == expectedSteps() ? v : null;
    });
    exported.addAll(scrapeServices(ports));

    runJob(SECOND);
    stepsAfterSecondJob = prometheus.await("the second job's steps in Prometheus", Duration.ofSeconds(30), () -> {
      double v = prometheus.value("sum(fleet_trainer_steps_total)");
      return v > stepsAfterFirstJob && v == expectedSteps() ? v : null;
    });

    Duration left = KAFKA_METRICS_TIMEOUT.minus(Duration.ofNanos(System.nanoTime() - started));
    prometheus.await("per-partition consumer lag to be exported", left.isNegative() ? Duration.ofSeconds(1) : left,
        () -> prometheus.query("kafka_consumer_fetch_manager_records_lag{job=\"trainer\",topic=\"" + prefix + ".batches\"}")
            .isEmpty() ? null : true);
    prometheus.await("both finished jobs to be counted", Duration.ofSeconds(15),
        () -> prometheus.value("max(fleet_jobs{state=\"finished\"})") >= 2 ? true : null);
    prometheus.await("every alert rule to be evaluated", Duration.ofSeconds(10),
        () -> rules().stream().allMatch(r -> !r.getString("lastEvaluation", "").startsWith("0001")) ? true : null);
    exported.addAll(scrapeServices(ports));
  }

  private static void runJob(String jobId) throws Exception {
    TrainingRequest request = FleetClient.parseRequest(smallRequest(jobId));
    client.submit(request);
    JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(jobId, JOB_TIMEOUT);
    assertTrue(outcome.succeeded(), "job " + jobId + " failed: " + outcome.lastStatus());
  }

  /** The job of the brief: 5 Fashion-MNIST classes, 40 images each, 4 epochs of batch 16, 3 of distillation. */
  private static String smallRequest(String jobId) {
    Path fm = FleetTestSupport.datasets().resolve("fashion-mnist");
    return new JsonObject()
        .put("jobId", jobId)
        .put("dataset", new JsonObject().put("format", "idx")
            .put("images", fm.resolve("train-images-idx3-ubyte.gz").toString())
            .put("labels", fm.resolve("train-labels-idx1-ubyte.gz").toString())
            .put("classes", new JsonArray(List.of(1, 3, 5, 7, 9))).put("maxPerClass", 40))
        .put("numClasses", 5)
        .put("baseModel", new JsonObject().put("architecture",
            new JsonObject().put("family", "resnet10").put("baseWidth", 16).put("stem", "small")))
        // increase() over a job's steps needs two scrapes (1 s apart) that see different counts. Two teacher epochs
        // (24 steps) can both be published at once (lead_epochs 2) and trained within one second; with four, the
        // last two wait for the evaluator's verdicts on the first two, so the teacher's steps span several scrapes
        .put("recipe", new JsonObject().put("epochs", 4).put("batchSize", 16))
        // three student epochs span several 1 s scrapes, so increase() over the distiller's steps is defined
        .put("distillation", new JsonObject().put("epochs", 3))
        .encode();
  }

  /** The trainer's step counters summed, straight from its /metrics: what Prometheus must end up with. */
  private static double expectedSteps() {
    double sum = 0;
    for (String line : scrape(fleet.services().get("trainer").httpPort()).split("\n")) {
      if (line.startsWith("fleet_trainer_steps_total{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static Set<String> scrapeServices(Map<String, Integer> ports) {
    Set<String> names = new HashSet<>();
    ports.values().forEach(p -> names.addAll(MetricNamesSupport.exposedNames(scrape(p))));
    return names;
  }

  private static String scrape(int port) {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), "/metrics on port " + port);
      return r.body();
    } catch (Exception e) {
      throw new IllegalStateException("cannot scrape port " + port + ": " + e, e);
    }
  }

  private static List<JsonObject> rules() {
    List<JsonObject> out = new ArrayList<>();
    JsonArray groups = prometheus.api("/api/v1/rules").getJsonArray("groups");
    for (int g = 0; g < groups.size(); g++) {
      JsonArray rules = groups.getJsonObject(g).getJsonArray("rules");
      for (int r = 0; r < rules.size(); r++) {
        out.add(rules.getJsonObject(r));
      }
    }
    return out;
  }

  @AfterAll
  static void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (client != null) {
      client.close();
    }
    if (fleet != null) {
      fleet.close();
    }
  }

  /**
   * The fleet above ran trainer, evaluator and distiller in this JVM, and every libtorch call went to the torch
   * thread: no consumer thread has an OpenMP team of its own. libgomp's workers are native threads that
   * take their creator's name, so a team shows as native threads named like the thread that started it.
   */
  @Test
  void theServicesInOneJvmRunLibtorchOnTheTorchThreadOnly() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc to name native threads");
    Map<String, Long> nativeThreads = nativeThreadsByName();
    assertTrue(nativeThreads.getOrDefault("torch", 0L) > 0, "the torch thread's OpenMP workers: " + nativeThreads);
    for (String service : List.of("trainer", "evaluator", "distiller")) {
      String consumer = comm(service + "-consumer");
      assertEquals(0L, nativeThreads.getOrDefault(consumer, 0L), service + " ran libtorch on its consumer thread, "
          + "which got an OpenMP team of its own: " + nativeThreads);
    }
  }

  /** Native threads of this process that the JVM does not know, counted by their (15-character) name. */
  private static Map<String, Long> nativeThreadsByName() throws java.io.IOException {
    Map<String, Long> count = new TreeMap<>();
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      tasks.forEach(t -> {
        try {
          count.merge(Files.readString(t.resolve("comm")).strip(), 1L, Long::sum);
        } catch (java.io.IOException e) {
          // the thread ended meanwhile
        }
      });
    }
    Thread.getAllStackTraces().keySet().forEach(t -> count.computeIfPresent(comm(t.getName()), (k, v) -> v > 1 ? v - 1 : null));
    return count;
  }

  private static String comm(String threadName) {
    return threadName.length() > 15 ? threadName.substring(0, 15) : threadName;
  }

  @Test
  void prometheusSeesTheKeySeriesOfARunningFleetAndTheyMove() {
    assertTrue(stepsAfterSecondJob > stepsAfterFirstJob,
        "fleet_trainer_steps_total did not increase: " + stepsAfterFirstJob + " then " + stepsAfterSecondJob);
    assertEquals(4, prometheus.query("up{job=~\"data-augmenter|trainer|evaluator|distiller\"} == 1").size(),
        "one scraped target per service");

    // the job id arrives as job_id, never colliding with the scrape job
    for (String job : List.of(FIRST, SECOND)) {
      assertTrue(prometheus.value("sum(fleet_trainer_steps_total{job=\"trainer\",job_id=\"" + job + "\"})") > 0, job);
      double accuracy = prometheus.value("max(fleet_evaluator_validation_accuracy{job_id=\"" + job + "\",phase=\"train\"})");
      assertTrue(accuracy >= 0 && accuracy <= 1, job + " validation accuracy " + accuracy);
      double f1 = prometheus.value("max(fleet_evaluator_validation_macro_f1{job_id=\"" + job + "\",phase=\"train\"})");
      assertTrue(f1 >= 0 && f1 <= 1, job + " validation macro-F1 " + f1);
      assertEquals(2, prometheus.query("fleet_trainer_learning_rate{job_id=\"" + job + "\"}").size(),
          job + ": one learning rate per parameter group (head, backbone)");
    }
    assertTrue(prometheus.query("{exported_job!=\"\"}").isEmpty(), "a job label collided with the scrape job");

    assertTrue(prometheus.value("max(fleet_jobs{state=\"finished\"})") >= 2, "both jobs counted as finished");
    long states = java.util.Arrays.stream(JobStatus.State.values())
        .filter(st -> st != JobStatus.State.STATE_UNSPECIFIED && st != JobStatus.State.UNRECOGNIZED).count();
    assertEquals(states, prometheus.query("fleet_jobs{job=\"trainer\"}").size(), "fleet_jobs has one series per state");
    assertTrue(prometheus.value("sum(increase(fleet_augmenter_images_total[5m]))") > 0, "augmenter images moved");
    assertTrue(prometheus.value("sum(increase(fleet_distiller_models_finished_total[5m]))") > 0, "models finished moved");
    assertTrue(prometheus.value("sum(fleet_augmenter_blob_disk_used_bytes)") > 0, "blob store disk use");
    assertEquals(fleet.config().getInt(FleetConfig.PARTITIONS),
        prometheus.query("kafka_consumer_fetch_manager_records_lag{job=\"trainer\",topic=\"" + prefix + ".batches\"}").size(),
        "trainer lag on every partition of the batches topic");
    assertEquals(fleet.config().getInt(FleetConfig.PARTITIONS),
        prometheus.value("sum(fleet_consumer_partitions_owned{job=\"trainer\"})"), 1e-9,
        "the trainer replica owns every partition number");

    for (JsonObject rule : rules()) {
      assertEquals("ok", rule.getString("health"), "rule " + rule.getString("name") + ": " + rule.getString("lastError"));
    }
  }

  @Test
  void everyMetricADashboardOrAlertQueriesIsExportedByTheFleet() throws Exception {
    assertTrue(exported.contains("fleet_trainer_steps_total"), "scraped names: " + exported);
    Map<String, String> expressions = new LinkedHashMap<>();
    List<Path> dashboards = MetricNamesSupport.dashboards();
    assertEquals(4, dashboards.size(), "dashboards: " + dashboards);
    for (Path file : dashboards) {
      JsonObject dashboard = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      Set<Integer> ids = new HashSet<>();
      for (JsonObject panel : MetricNamesSupport.panels(dashboard)) {
        assertTrue(ids.add(panel.getInteger("id")), file.getFileName() + ": panel id " + panel.getInteger("id") + " twice");
      }
      MetricNamesSupport.dashboardExpressions(dashboard).forEach((where, expr) -> expressions.put(file.getFileName() + " " + where, expr));
    }
    MetricNamesSupport.alertExpressions(MetricNamesSupport.alertRules()).forEach((where, expr) -> expressions.put("alerts.yml " + where, expr));

    Map<String, Set<String>> missing = new TreeMap<>();
    expressions.forEach((where, expr) -> {
      Set<String> names = MetricNamesSupport.metricNames(expr);
      assertFalse(names.isEmpty(), where + " names no metric: " + expr);
      for (String name : names) {
        if (!exported.contains(name) && !MetricNamesSupport.SYNTHETIC.contains(name)) {
          missing.computeIfAbsent(name, n -> new TreeSet<>()).add(where);
        }
      }
    });
    if (!missing.isEmpty()) {
      fail("metrics queried but not exported by the fleet (the panel or alert would be blank):\n" + missing);
    }

    // every dashboard query runs in Prometheus as Grafana would send it, and finds data
    Map<String, String> blank = new TreeMap<>();
    expressions.forEach((where, expr) -> {
      if (where.startsWith("alerts.yml")) {
        return;
      }
      String query = expr.replace("$__rate_interval", "1m").replace("$job", FIRST).replace("$service", ".*")
          .replace("$instance", ".*");
      try {
        if (prometheus.query(query).isEmpty()) {
          blank.put(where, query);
        }
      } catch (IllegalArgumentException e) {
        fail(where + ": Prometheus rejects the query: " + e.getMessage());
      }
    });
    if (!blank.isEmpty()) {
      fail("dashboard queries that find no data after two jobs:\n" + String.join("\n",
          blank.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList()));
    }
  }
}
