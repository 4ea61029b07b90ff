package io.tunefleet.common.service;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.ConsumerLoop;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.metrics.FleetMetrics;
import io.tunefleet.common.metrics.HealthServer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main verticle of a fleet service: reads its {@link FleetConfig} from the deployment's JSON config
 * and the environment, ensures the topics exist, starts the consumer loop (its own thread: training
 * and file work never run on the event loop) and the health/metrics HTTP server. Subclasses only say
 * which topics they read and how they handle a record.
 */
public abstract class ServiceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceVerticle.class);

  private FleetProducer producer;
  private ConsumerLoop loop;
  private RecordHandler handler;
  private PrometheusMeterRegistry registry;
  private HttpServer http;
  private BlobStore blobs;

  /** The service's name: data-augmenter, trainer, evaluator or distiller. Also its consumer group. */
  protected abstract String serviceName();

  protected abstract List<String> topics(Topics topics);

  protected abstract RecordHandler createHandler(ServiceContext context) throws Exception;

  @Override
  public Future<?> start() {
    FleetConfig config = FleetConfig.load(config(), System.getenv());
    String instance = config.get(FleetConfig.INSTANCE_ID).isBlank()
        ? serviceName() + "-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(System.identityHashCode(this))
        : config.get(FleetConfig.INSTANCE_ID);
    return vertx.executeBlocking(() -> {
      Topics topics = new Topics(config);
      topics.create(config);
      registry = FleetMetrics.create(serviceName(), instance);
      // opening the store checks it (an S3 bucket, its credentials, its endpoint) before any job is taken
      blobs = BlobStore.open(config, registry);
      LOG.info("{}: blob store {}", serviceName(), blobs.rootUri());
      producer = new FleetProducer(config, instance + "-producer");
      ServiceContext context = new ServiceContext(serviceName(), instance, config, blobs, producer, topics, registry);
      handler = createHandler(context);
      loop = new ConsumerLoop(config, serviceName(), config.consumerGroup(serviceName()), topics(topics), handler, producer,
          topics.deadLetter, registry, instance);
      loop.start();
      return null;
    }).compose(v -> HealthServer.start(vertx, config.getInt(FleetConfig.METRICS_PORT), registry, loop::alive, loop::ready))
        .onSuccess(server -> {
          http = server;
          LOG.info("{} started: metrics on :{}, topics {}", serviceName(), server.actualPort(), config.get(FleetConfig.TOPIC_PREFIX) + ".*");
        });
  }

  /** The port of /metrics, /health and /ready (useful when configured as 0). */
  public int httpPort() {
    return http == null ? -1 : http.actualPort();
  }

  public boolean ready() {
    return loop != null && loop.ready();
  }

  @Override
  public Future<?> stop() {
    return vertx.executeBlocking(() -> {
      if (loop != null) {
        loop.close();
      }
      if (handler instanceof AutoCloseable c) {
        c.close();
      }
      if (producer != null) {
        producer.close();
      }
      if (blobs != null) {
        blobs.close();
      }
      return null;
    }).compose(v -> http == null ? Future.succeededFuture() : http.close())
        .onComplete(v -> {
          if (registry != null) {
            registry.close();
          }
        });
  }
}
