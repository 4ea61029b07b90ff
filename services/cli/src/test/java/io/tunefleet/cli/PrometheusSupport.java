package io.tunefleet.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A real Prometheus server (Debian's {@code /usr/bin/prometheus}) for the observability tests: started
 * on a free loopback port with its own storage, scraping what a generated configuration names, and
 * queried through its HTTP API.
 */
final class PrometheusSupport implements AutoCloseable {
  static final Path BINARY = Path.of(System.getProperty("fleet.test.prometheus", "/usr/bin/prometheus"));

  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private PrometheusSupport(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static boolean available() {
    return Files.isExecutable(BINARY);
  }

  /**
   * The compose stack's scrape configuration ({@code deploy/prometheus/prometheus-compose.yml}) made to
   * scrape this machine: each service's job keeps its relabelling but targets 127.0.0.1 at the port the
   * service really listens on, every scrape and rule evaluation happens each second, and the alert rules
   * are loaded from {@code rules}. Jobs for anything other than the fleet's services are dropped.
   */
  @SuppressWarnings("unchecked")
  static String localConfig(Path composeConfig, Path rules, Map<String, Integer> servicePorts) throws IOException {
    Map<String, Object> config = new Yaml().load(Files.readString(composeConfig, StandardCharsets.UTF_8));
    Map<String, Object> global = new LinkedHashMap<>((Map<String, Object>) config.getOrDefault("global", Map.of()));
    global.put("scrape_interval", "1s");
    global.put("scrape_timeout", "1s");
    global.put("evaluation_interval", "1s");
    config.put("global", global);
    config.put("rule_files", List.of(rules.toAbsolutePath().toString()));
    List<Map<String, Object>> jobs = new ArrayList<>();
    for (Map<String, Object> job : (List<Map<String, Object>>) config.get("scrape_configs")) {
      Integer p = servicePorts.get((String) job.get("job_name"));
      if (p == null) {
        continue;
      }
      Map<String, Object> local = new LinkedHashMap<>(job);
      local.remove("dns_sd_configs");
      local.put("static_configs", List.of(Map.of("targets", List.of("127.0.0.1:" + p))));
      jobs.add(local);
    }
    if (jobs.size() != servicePorts.size()) {
      throw new IllegalStateException(composeConfig + " has no scrape job for some of " + servicePorts.keySet());
    }
    config.put("scrape_configs", jobs);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    return new Yaml(options).dump(config);
  }

  /** Starts Prometheus with {@code config}, keeping its storage and log under {@code dir}; returns once it is ready. */
  static PrometheusSupport start(Path dir, String config) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path file = dir.resolve("prometheus.yml");
    Files.writeString(file, config, StandardCharsets.UTF_8);
    int port = freePort();
    Path log = dir.resolve("prometheus.log");
    Process process = new ProcessBuilder(BINARY.toString(), "--config.file=" + file, "--storage.tsdb.path=" + dir.resolve("tsdb"),
        "--web.listen-address=127.0.0.1:" + port, "--storage.tsdb.retention.time=1h")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PrometheusSupport prometheus = new PrometheusSupport(process, port, log);
    try {
      prometheus.await("Prometheus to be ready on port " + port, Duration.ofSeconds(30), () -> {
        if (!process.isAlive()) {
          throw new IllegalStateException("Prometheus exited with " + process.exitValue() + ":\n" + prometheus.logTail());
        }
        try {
          return prometheus.get("/-/ready").statusCode() == 200 ? Boolean.TRUE : null;
        } catch (IOException e) {
          return null;
        }
      });
    } catch (RuntimeException | InterruptedException e) {
      prometheus.close();
      throw e;
    }
    return prometheus;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  int port() {
    return port;
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** GET an API path; the {@code data} of a successful answer, else an exception with Prometheus' error. */
  JsonObject api(String pathAndQuery) {
    try {
      HttpResponse<String> r = get(pathAndQuery);
      JsonObject body = new JsonObject(r.body());
      if (!"success".equals(body.getString("status"))) {
        throw new IllegalArgumentException(pathAndQuery + ": " + body.getString("errorType") + ": " + body.getString("error"));
      }
      return body.getJsonObject("data");
    } catch (IOException e) {
      throw new IllegalStateException("Prometheus API " + pathAndQuery + " failed: " + e, e);
    }
  }

  /** An instant query; the result vector (each element has {@code metric} labels and a {@code value} pair). */
  JsonArray query(String promql) {
    JsonObject data = api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    Object result = data.getValue("result");
    return result instanceof JsonArray a ? a : new JsonArray().add(new JsonObject().put("value", result));
  }

  /** The single value of a query that yields one sample, or NaN when it yields none. */
  double value(String promql) {
    JsonArray result = query(promql);
    if (result.isEmpty()) {
      return Double.NaN;
    }
    if (result.size() > 1) {
      throw new IllegalStateException(promql + " yields " + result.size() + " series: " + result);
    }
    return Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1));
  }

  /** Polls {@code probe} every 250 ms until it returns non-null; fails after {@code timeout}. */
  <T> T await(String what, Duration timeout, Supplier<T> probe) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        T t = probe.get();
        if (t != null) {
          return t;
        }
      } catch (IllegalStateException e) {
        if (!process.isAlive()) {
          throw e;
        }
        last = e;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
        + (last == null ? "" : " (last error: " + last.getMessage() + ")") + "\nPrometheus log:\n" + logTail());
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
