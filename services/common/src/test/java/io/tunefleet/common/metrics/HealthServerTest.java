package io.tunefleet.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final Vertx vertx = Vertx.vertx();
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicBoolean ready = new AtomicBoolean(false);
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    // about as many series as a trainer serving a few jobs: a body of a few hundred kilobytes
    for (int i = 0; i < 2_000; i++) {
      Counter.builder("fleet_test_series_seconds").tag("job", "job-" + i).tag("stage", "layer" + (i % 4))
          .register(registry).increment(i);
    }
    server = HealthServer.start(vertx, 0, registry, () -> true, ready::get)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(HttpClient client, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.actualPort() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The JDK's client asks every new connection to upgrade to cleartext HTTP/2 (h2c). The server answers in
   * HTTP/1.1: once, an upgraded large scrape came back as HTTP/1.1 bytes the client read as HTTP/2 frames
   * ("Frame type(111) length(7562595) exceeds MAX_FRAME_SIZE").
   */
  @Test
  void scrapesCompleteOverHttp11EvenWhenTheClientOffersH2c() throws Exception {
    String expected = registry.scrape();
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> r = get(HttpClient.newHttpClient(), "/metrics");
      assertEquals(200, r.statusCode());
      assertEquals(HttpClient.Version.HTTP_1_1, r.version(), "a metrics endpoint speaks HTTP/1.1 only");
      assertTrue(r.body().contains("job=\"job-1999\""), "the whole scrape arrives");
      assertEquals(expected.length(), r.body().length());
    }
  }

  @Test
  void healthAndReadinessAnswerWithTheirState() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    assertEquals(200, get(client, "/health").statusCode());
    assertEquals(503, get(client, "/ready").statusCode());
    ready.set(true);
    assertEquals(200, get(client, "/ready").statusCode());
    HttpResponse<String> unknown = get(client, "/config");
    assertEquals(404, unknown.statusCode());
    assertTrue(unknown.body().contains("/metrics"), unknown.body());
  }
}
