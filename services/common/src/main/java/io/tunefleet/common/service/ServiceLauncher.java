package io.tunefleet.common.service;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one service verticle as its own application (its jar's main, or {@code fleet run SERVICE}).
 * SIGTERM undeploys it: the consumer loop finishes the current record, commits what is durable and
 * leaves its group before the process exits.
 */
public final class ServiceLauncher {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceLauncher.class);

  private ServiceLauncher() {}

  public static void run(ServiceVerticle verticle) {
    run(verticle, new JsonObject());
  }

  public static void run(ServiceVerticle verticle, JsonObject config) {
    Vertx vertx = Vertx.vertx();
    String id;
    try {
      id = vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config))
          .toCompletionStage().toCompletableFuture().join();
    } catch (java.util.concurrent.CompletionException e) {
      // bad configuration (an unknown bucket, an unreachable endpoint, …): one line that names it, and exit
      Throwable cause = e.getCause() == null ? e : e.getCause();
      LOG.error("cannot start: {}", cause.getMessage());
      vertx.close();
      throw new IllegalStateException("cannot start: " + cause.getMessage(), cause);
    }
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down");
      try {
        vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("unclean shutdown: {}", e.toString());
      }
      done.countDown();
    }, "fleet-shutdown"));
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
