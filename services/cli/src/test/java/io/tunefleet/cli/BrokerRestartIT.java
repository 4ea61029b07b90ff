package io.tunefleet.cli;

import static io.tunefleet.cli.FaultJobsSupport.awaitStatus;
import static io.tunefleet.cli.FaultJobsSupport.faultJob;
import static io.tunefleet.cli.FaultJobsSupport.midEpoch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tunefleet.common.kafka.EmbeddedKafka;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
      fleet.deploy("data-augmenter", "trainer", "evaluator", "distiller");
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
      for (String service : LocalFleet.SERVICES.keySet()) {
        assertTrue(fleet.verticle(service).ready(), service + " must still be consuming after the restarts");
      }
    }
  }
}
