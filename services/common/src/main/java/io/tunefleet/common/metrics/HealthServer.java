package io.tunefleet.common.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.function.BooleanSupplier;

/**
 * The only HTTP a service serves: {@code /metrics} (Prometheus text format), {@code /health} (the
 * process and its consumer loop are alive) and {@code /ready} (it owns partitions and can work).
 * Nothing here reveals configuration or secrets.
 *
 * <p>It speaks HTTP/1.1 only, as Prometheus and Kubernetes probes do. Vert.x would otherwise accept the
 * cleartext HTTP/2 upgrade (h2c) that the JDK's {@code HttpClient} offers on every new connection, and an
 * upgraded scrape once came back to such a client as bytes it could not parse ("Frame type(111) ... exceeds
 * MAX_FRAME_SIZE"): nothing here gains from HTTP/2.
 */
public final class HealthServer {
  private HealthServer() {}

  public static Future<HttpServer> start(Vertx vertx, int port, PrometheusMeterRegistry registry,
      BooleanSupplier alive, BooleanSupplier ready) {
    return vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req -> {
      switch (req.path()) {
        case "/metrics" -> vertx.executeBlocking(registry::scrape).onComplete(ar -> {
          if (ar.succeeded()) {
            req.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
          } else {
            req.response().setStatusCode(500).end("scrape failed\n");
          }
        });
        case "/health" -> answer(req.response(), alive.getAsBoolean());
        case "/ready" -> answer(req.response(), ready.getAsBoolean());
        default -> req.response().setStatusCode(404).end("not found; try /metrics, /health or /ready\n");
      }
    }).listen(port);
  }

  private static void answer(io.vertx.core.http.HttpServerResponse response, boolean ok) {
    response.setStatusCode(ok ? 200 : 503).putHeader("content-type", "text/plain").end(ok ? "UP\n" : "DOWN\n");
  }
}
