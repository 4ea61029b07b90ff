package io.tunefleet.cli;

import static io.tunefleet.cli.FaultJobsSupport.awaitStatus;
import static io.tunefleet.cli.FaultJobsSupport.faultJob;
import static io.tunefleet.cli.FaultJobsSupport.midEpoch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.ConsumerLoop;
import io.tunefleet.local.EmbeddedKafka;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.kafka.RecordHandler;
import io.tunefleet.common.kafka.Topics;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker goes away mid-job (a clean stop, then a crash) and comes back on the same address. */
@Tag("integration")
class BrokerRestartIT {
  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = KafkaTestCluster.start(3);
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  @Test
  void servicesReconnectAfterTheBrokerRestartsAndTheJobFinishes(@TempDir Path blobRoot) throws Exception {
    assumeTrue(kafka.embedded() != null, "needs the embedded broker, which the test can stop and restart");
    EmbeddedKafka broker = kafka.embedded();
    String job = "broker-restart";
    int epochs = 3;
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      // the training services as processes of their own, the others in this JVM (where /ready can be asked)
      ServiceProcess trainer = fleet.spawn("trainer", fleet.prefix() + "-trainer");
      ServiceProcess distiller = fleet.spawn("distiller", fleet.prefix() + "-distiller");
      fleet.deploy("data-augmenter", "evaluator");
      FleetClient client = fleet.client();
      client.submit(faultJob(job, epochs, 1));

      awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, 1), Duration.ofMinutes(2));
      long t = System.nanoTime();
      broker.stop();
      Thread.sleep(3000);
      broker.start();
      System.out.printf("broker stopped and restarted in %d ms%n", (System.nanoTime() - t) / 1_000_000);

      awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, 2), Duration.ofMinutes(2));
      t = System.nanoTime();
      broker.kill();
      Thread.sleep(3000);
      broker.start();
      System.out.printf("broker killed and restarted in %d ms%n", (System.nanoTime() - t) / 1_000_000);

      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "the job must finish after the broker came back: " + outcome.lastStatus());
      JobEventsSupport events = JobEventsSupport.read(client, job);
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, epochs);
      events.assertStepsAppliedExactlyOnce(Phase.DISTILL, 1);
      events.assertOneVerdictPerCheckpoint();
      events.assertOneFinishedModel();
      assertEquals(List.of(), events.deadLetters);
      for (String service : List.of("data-augmenter", "evaluator")) {
        assertTrue(fleet.verticle(service).ready(), service + " must still be consuming after the restarts");
      }
      assertTrue(trainer.alive() && distiller.alive());
    }
  }

  /**
   * A commit that times out because the broker is away (longer than the client's API timeout, here 2 s)
   * is retried with the next one; it must not stop the consumer loop, or the service would stay up
   * but never consume again.
   */
  @Test
  void theConsumerLoopOutlivesACommitThatTimesOutWhileTheBrokerIsDown() throws Exception {
    assumeTrue(kafka.embedded() != null, "needs the embedded broker, which the test can stop and restart");
    EmbeddedKafka broker = kafka.embedded();
    FleetConfig config = FleetConfig.load(new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers())
        .put(FleetConfig.TOPIC_PREFIX.key(), "outage").put(FleetConfig.PARTITIONS.key(), 3)
        .put("FLEET_KAFKA_DEFAULT_API_TIMEOUT_MS", 2000).put("FLEET_KAFKA_REQUEST_TIMEOUT_MS", 1000), Map.of());
    Topics topics = new Topics(config);
    topics.create(config);
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    List<String> seen = new CopyOnWriteArrayList<>();
    RecordHandler handler = (record, context) -> {
      String value = new String(record.value(), StandardCharsets.UTF_8);
      seen.add(value);
      if (value.equals("first")) {
        handling.countDown();
        proceed.await();
      }
    };
    try (FleetProducer producer = new FleetProducer(config, "outage-producer");
        ConsumerLoop loop = new ConsumerLoop(config, "outage", "outage", List.of(topics.requests), handler, producer,
            topics.deadLetter, new SimpleMeterRegistry(), "outage-1")) {
      loop.start();
      producer.sendRaw(topics.requests, "k", "first".getBytes(StandardCharsets.UTF_8)).get();
      assertTrue(handling.await(60, TimeUnit.SECONDS), "the loop never got the first record");
      broker.stop();
      proceed.countDown(); // the loop now commits "first" while no broker answers
      Thread.sleep(6000);
      assertTrue(loop.alive(), "a commit that timed out stopped the consumer loop");
      broker.start();
      producer.sendRaw(topics.requests, "k", "second".getBytes(StandardCharsets.UTF_8)).get(60, TimeUnit.SECONDS);
      ProcessFleetSupport.await("the record sent after the restart", Duration.ofMinutes(1), () -> seen.contains("second"));
      assertTrue(loop.alive());
    }
  }
}
