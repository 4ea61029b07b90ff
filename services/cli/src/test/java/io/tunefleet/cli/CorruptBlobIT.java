package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.service.ServiceVerticle;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch in the blob store that no longer matches its reference (bytes changed, truncated, deleted) is
 * never trained on: the job fails with a reason naming the blob, and the fleet goes on serving other jobs.
 * The batches are damaged after the augmenter wrote them and before the trainer (started afterwards) reads them.
 */
@Tag("integration")
class CorruptBlobIT {
  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  /** How a batch file is damaged. */
  enum Damage { FLIP_BYTES, TRUNCATE, DELETE }

  @Test
  void aDamagedBatchFailsItsJobNamingTheBlobAndIsNeverTrainedOn(@TempDir Path blobRoot) throws Exception {
    // job id -> (epoch, step, damage, the problem the reason must name)
    Map<String, Object[]> cases = Map.of(
        "corrupt-hash", new Object[] {1, 3, Damage.FLIP_BYTES, "sha256"},
        "corrupt-truncated", new Object[] {1, 2, Damage.TRUNCATE, "size"},
        "corrupt-missing", new Object[] {1, 1, Damage.DELETE, "missing"});
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      FleetClient client = fleet.client();
      for (String job : cases.keySet()) {
        client.submit(twoEpochs(job));
      }
      for (Map.Entry<String, Object[]> c : cases.entrySet()) {
        damage(blobRoot, c.getKey(), (int) c.getValue()[0], (int) c.getValue()[1], (Damage) c.getValue()[2]);
      }
      ServiceVerticle trainer = fleet.deploy("trainer");

      for (Map.Entry<String, Object[]> c : cases.entrySet()) {
        String job = c.getKey();
        int epoch = (int) c.getValue()[0];
        int step = (int) c.getValue()[1];
        JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(2));
        assertFalse(o.succeeded(), job + " must not finish on a damaged batch");
        String reason = o.lastStatus().getMessage();
        String file = String.format("e%04d/s%05d.batch", epoch, step);
        assertEquals("trainer", o.lastStatus().getService().split("/")[0], reason);
        assertTrue(reason.contains(file) && reason.contains((String) c.getValue()[3]),
            job + ": the reason must name the blob and what is wrong with it: " + reason);
        JobEventsSupport events = JobEventsSupport.read(client, job);
        assertEquals(java.util.Set.of(0), events.checkpointsByEpoch(Phase.TRAIN).keySet(), job + ": only epoch 0 was completed");
        int stepsPerEpoch = events.stepsPerEpoch(Phase.TRAIN).get(0);
        assertEquals(stepsPerEpoch * epoch + step, stepsApplied(trainer, job),
            job + ": every step before the damaged batch applied, the damaged one and all after it not");
      }

      // the fleet goes on: a good job after the damaged ones finishes
      client.submit(FleetTestSupport.smallJob("after-corrupt", 30));
      JobWatcher.Outcome good = new JobWatcher(client, System.out).watch("after-corrupt", Duration.ofMinutes(2));
      assertTrue(good.succeeded(), "the fleet must keep serving other jobs: " + good.lastStatus());
    }
  }

  @Test
  void aDamagedFirstBatchFailsItsJobNamingTheBlob(@TempDir Path blobRoot) throws Exception {
    String job = "corrupt-first";
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      FleetClient client = fleet.client();
      client.submit(twoEpochs(job));
      damage(blobRoot, job, 0, 0, Damage.FLIP_BYTES);
      ServiceVerticle trainer = fleet.deploy("trainer");
      JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(2));
      assertFalse(o.succeeded());
      assertTrue(o.lastStatus().getMessage().contains("e0000/s00000.batch"), o.lastStatus().getMessage());
      assertEquals(0, stepsApplied(trainer, job));
    }
  }

  /** Two short epochs, both published at acceptance (lead epochs 2), no distillation. */
  private static TrainingRequest twoEpochs(String job) {
    TrainingRequest r = FleetTestSupport.smallJob(job, 60);
    return r.toBuilder().setRecipe(r.getRecipe().toBuilder().setLeadEpochs(2))
        .setDistillation(Distillation.newBuilder().setEnabled(false)).build();
  }

  /** Waits until the augmenter published the job's epochs, then damages one batch file. */
  private static void damage(Path blobRoot, String job, int epoch, int step, Damage how) throws Exception {
    Path done = blobRoot.resolve(JobPaths.epochDone(job, Phase.TRAIN, 1));
    ProcessFleetSupport.await(job + " epochs published", Duration.ofMinutes(1), () -> Files.exists(done));
    Path batch = blobRoot.resolve(JobPaths.batch(job, Phase.TRAIN, epoch, step));
    byte[] bytes = Files.readAllBytes(batch);
    switch (how) {
      case FLIP_BYTES -> {
        for (int i = bytes.length / 2; i < bytes.length / 2 + 16; i++) {
          bytes[i] = (byte) ~bytes[i];
        }
        Files.write(batch, bytes, StandardOpenOption.TRUNCATE_EXISTING);
      }
      case TRUNCATE -> Files.write(batch, java.util.Arrays.copyOf(bytes, bytes.length / 2), StandardOpenOption.TRUNCATE_EXISTING);
      case DELETE -> Files.delete(batch);
    }
  }

  private static final Pattern STEPS = Pattern.compile("^fleet_trainer_steps_total\\{([^}]*)}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE);

  /** The trainer's own count of optimizer steps applied to {@code job} (its /metrics). */
  static long stepsApplied(ServiceVerticle trainer, String job) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://localhost:" + trainer.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    Matcher m = STEPS.matcher(r.body());
    while (m.find()) {
      if (m.group(1).matches(".*\\bjob(_id)?=\"" + Pattern.quote(job) + "\".*")) {
        return (long) Double.parseDouble(m.group(2));
      }
    }
    return 0;
  }
}
