package io.tunefleet.cli;

import static io.tunefleet.cli.FaultJobsSupport.awaitStatus;
import static io.tunefleet.cli.FaultJobsSupport.faultJob;
import static io.tunefleet.cli.FaultJobsSupport.instanceOf;
import static io.tunefleet.cli.FaultJobsSupport.midEpoch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.blob.S3Location;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.common.testing.S3TestServer;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The fleet on S3 (a real S3 server, S3Proxy, started here; no Docker): a job from request to ModelFinished with
 * every object it references checked in the bucket, a replayed request, checkpoint retention and presigned model
 * URLs; a trainer killed with SIGKILL mid-epoch; a corrupted and a missing batch object.
 */
@Tag("integration")
class S3FleetIT {
  static KafkaTestCluster kafka;
  static S3TestServer s3;
  static S3Client bucket;

  @BeforeAll
  static void start() {
    kafka = ProcessFleetSupport.sharedBroker();
    s3 = S3TestServer.start();
    bucket = s3.client();
  }

  @AfterAll
  static void stop() {
    bucket.close();
    s3.close();
  }

  private static ProcessFleetSupport fleetOnS3(Path workDir, String root, JsonObject settings) {
    return ProcessFleetSupport.onS3(kafka.bootstrapServers(), workDir, 3, root, s3.endpoint(), s3.environment(), settings);
  }

  @Test
  void aJobOnS3FinishesWithEveryReferencedObjectInTheBucketAndOnlyItsBestAndLastCheckpoints(@TempDir Path work)
      throws Exception {
    String job = "s3-e2e";
    String root = s3.newRoot("fleet", "e2e");
    try (ProcessFleetSupport fleet = fleetOnS3(work, root, new JsonObject().put(FleetConfig.PRESIGN_SECONDS.key(), 600))) {
      fleet.deploy("data-augmenter", "trainer", "evaluator", "distiller");
      FleetClient client = fleet.client();
      TrainingRequest small = FleetTestSupport.smallJob(job, 40);
      TrainingRequest request = small.toBuilder().setRecipe(small.getRecipe().toBuilder().setEpochs(3)).build();
      client.submit(request);
      awaitStatus(client, job, s -> s.getState() == JobStatus.State.ACCEPTED, Duration.ofMinutes(1));
      client.submit(request); // a replayed request: the same job, accepted once
      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "job failed: " + outcome.lastStatus());
      ModelFinished done = outcome.finished();

      List<BlobRef> referenced = List.of(done.getTeacher().getModel(), done.getStudent().getModel(),
          done.getLineage().getRequest(), done.getReport());
      for (BlobRef ref : referenced) {
        assertTrue(ref.getUri().startsWith(root + "jobs/" + job + "/"), ref.getUri());
        S3Location o = S3Location.parse(ref.getUri());
        byte[] bytes = bucket.getObjectAsBytes(b -> b.bucket(o.bucket()).key(o.key())).asByteArray();
        assertEquals(ref.getSizeBytes(), bytes.length, ref.getUri());
        assertEquals(ref.getSha256(), BlobStore.sha256(bytes), ref.getUri());
      }
      // each model file has a presigned URL that needs no credentials
      for (BlobRef model : List.of(done.getTeacher().getModel(), done.getStudent().getModel())) {
        assertTrue(model.getPresignedUrl().startsWith(s3.endpoint().toString()), model.getPresignedUrl());
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(model.getPresignedUrl()))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals(model.getSha256(), BlobStore.sha256(r.body()));
      }
      assertTrue(referenced.subList(2, 4).stream().allMatch(r -> r.getPresignedUrl().isEmpty()), "only models are presigned");

      JobEventsSupport events = JobEventsSupport.read(client, job);
      assertEquals(1, events.count(s -> s.getState() == JobStatus.State.ACCEPTED), "the replayed request made no second job");
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, 3);
      events.assertOneFinishedModel();
      // retention: consumed batches are gone, and of three training epochs only the best and the last checkpoint stay
      S3Location jobFolder = S3Location.parse(root + "jobs/" + job + "/");
      List<String> keys = new ArrayList<>();
      for (S3Object o : bucket.listObjectsV2Paginator(b -> b.bucket(jobFolder.bucket()).prefix(jobFolder.key())).contents()) {
        keys.add(o.key().substring(jobFolder.key().length()));
      }
      assertTrue(keys.stream().noneMatch(k -> k.endsWith(".batch") && k.startsWith("batches/")), keys.toString());
      int best = done.getTeacher().getEpoch();
      Set<String> kept = new java.util.TreeSet<>();
      keys.stream().filter(k -> k.startsWith("checkpoints/train/") && k.endsWith(".ckpt")).forEach(kept::add);
      Set<String> bestAndLast = new java.util.TreeSet<>(List.of(String.format("checkpoints/train/e%04d.ckpt", best),
          "checkpoints/train/e0002.ckpt"));
      assertEquals(bestAndLast, kept, "best (epoch " + best + ") and last (epoch 2)");
      assertTrue(keys.containsAll(List.of("checkpoints/train/e0000.pb", "checkpoints/train/e0001.pb", "checkpoints/train/e0002.pb")),
          "the Checkpoint events stay for the report: " + keys);
      assertTrue(outcome.lastStatus().getMessage().contains("the job stores"), outcome.lastStatus().getMessage());
      S3Location report = S3Location.parse(done.getReport().getUri());
      String markdown = bucket.getObjectAsBytes(g -> g.bucket(report.bucket()).key(report.key())).asUtf8String();
      assertTrue(markdown.contains("Stored in the blob store after retention") && markdown.contains("MB before this report"),
          "the report states the job's stored bytes");
    }
  }

  @Test
  void aTrainerKilledMidEpochIsReplacedAndTheJobFinishesFromItsCheckpointInTheBucket(@TempDir Path work) throws Exception {
    String job = "s3-failover";
    String root = s3.newRoot("fleet", "failover");
    try (ProcessFleetSupport fleet = fleetOnS3(work, root, new JsonObject())) {
      String prefix = fleet.prefix() + "-trainer-";
      ServiceProcess a = fleet.spawn("trainer", prefix + "a");
      ServiceProcess b = fleet.spawn("trainer", prefix + "b");
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      fleet.awaitGroupMembers("trainer", prefix, Set.of(a.instanceId, b.instanceId), Duration.ofSeconds(120));
      FleetClient client = fleet.client();
      client.submit(faultJob(job, 2, 0));
      JobStatus mid = awaitStatus(client, job, midEpoch(JobStatus.State.TRAINING, 1), Duration.ofMinutes(2));
      ServiceProcess owner = instanceOf(mid).equals(a.instanceId) ? a : b;
      ServiceProcess survivor = owner == a ? b : a;
      owner.kill();
      JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(job, Duration.ofMinutes(3));
      assertTrue(outcome.succeeded(), "the job must finish after its trainer was killed: " + outcome.lastStatus()
          + "\nsurvivor log:\n" + survivor.tail(40));
      assertTrue(survivor.output().contains(job + ": TRAIN resumed from the checkpoint of epoch 0"), survivor.tail(40));
      JobEventsSupport events = JobEventsSupport.read(client, job);
      events.assertStepsAppliedExactlyOnce(Phase.TRAIN, 2);
      events.assertOneFinishedModel();
      assertEquals(List.of(), events.deadLetters);
    }
  }

  @Test
  void aCorruptedOrMissingBatchObjectFailsItsJobNamingTheObjectAndTheFleetGoesOn(@TempDir Path work) throws Exception {
    String root = s3.newRoot("fleet", "corrupt");
    try (ProcessFleetSupport fleet = fleetOnS3(work, root, new JsonObject())) {
      fleet.deploy("data-augmenter", "evaluator", "distiller");
      FleetClient client = fleet.client();
      for (String job : List.of("s3-corrupt", "s3-missing")) {
        TrainingRequest r = FleetTestSupport.smallJob(job, 40);
        client.submit(r.toBuilder().setRecipe(r.getRecipe().toBuilder().setLeadEpochs(2))
            .setDistillation(Distillation.newBuilder().setEnabled(false)).build());
      }
      S3Location corrupt = await(root, JobPaths.batch("s3-corrupt", Phase.TRAIN, 1, 1));
      byte[] bytes = bucket.getObjectAsBytes(g -> g.bucket(corrupt.bucket()).key(corrupt.key())).asByteArray();
      bytes[bytes.length / 2] ^= 0x5a;
      bucket.putObject(p -> p.bucket(corrupt.bucket()).key(corrupt.key()), RequestBody.fromBytes(bytes));
      S3Location missing = await(root, JobPaths.batch("s3-missing", Phase.TRAIN, 1, 2));
      bucket.deleteObject(d -> d.bucket(missing.bucket()).key(missing.key()));
      fleet.deploy("trainer");

      for (String[] c : new String[][] {{"s3-corrupt", "e0001/s00001.batch", "sha256"}, {"s3-missing", "e0001/s00002.batch", "missing"}}) {
        JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(c[0], Duration.ofMinutes(2));
        assertFalse(o.succeeded(), c[0] + " must not finish on a damaged batch");
        String reason = o.lastStatus().getMessage();
        assertTrue(reason.contains("s3://") && reason.contains(c[1]) && reason.contains(c[2]),
            c[0] + ": the reason must name the object and what is wrong with it: " + reason);
        assertEquals(Set.of(0), JobEventsSupport.read(client, c[0]).checkpointsByEpoch(Phase.TRAIN).keySet());
      }
      client.submit(FleetTestSupport.smallJob("s3-after-corrupt", 20).toBuilder()
          .setDistillation(Distillation.newBuilder().setEnabled(false)).build());
      assertTrue(new JobWatcher(client, System.out).watch("s3-after-corrupt", Duration.ofMinutes(2)).succeeded());
    }
  }

  @Test
  void aServiceWithAnUnknownBucketOrAnUnreachableEndpointStopsAtStartNamingTheSetting(@TempDir Path work) throws Exception {
    try (ProcessFleetSupport fleet = fleetOnS3(work, "s3://no-such-bucket/fleet/", new JsonObject())) {
      IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
          () -> fleet.deploy("trainer"));
      assertTrue(e.getMessage().contains("FLEET_BLOB_ROOT: bucket 'no-such-bucket' does not exist at " + s3.endpoint()),
          e.getMessage());
    }
    int closed;
    try (var socket = new java.net.ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    try (ProcessFleetSupport fleet = ProcessFleetSupport.onS3(kafka.bootstrapServers(), work, 3, s3.newRoot("fleet", "down"),
        URI.create("http://127.0.0.1:" + closed), s3.environment(), new JsonObject())) {
      ServiceProcess trainer = fleet.spawn("trainer", fleet.prefix() + "-trainer-down");
      ProcessFleetSupport.await("the trainer exits", Duration.ofSeconds(90), () -> !trainer.alive());
      assertTrue(trainer.output().contains("FLEET_S3_ENDPOINT: cannot reach http://127.0.0.1:" + closed), trainer.tail(20));
    }
  }

  /** Waits until the augmenter published both epochs of the job, then returns the object at {@code path}. */
  private static S3Location await(String root, String path) {
    S3Location object = S3Location.parse(root + path);
    String job = path.split("/")[1];
    S3Location done = S3Location.parse(root + JobPaths.epochDone(job, Phase.TRAIN, 1));
    ProcessFleetSupport.await(job + " epochs published", Duration.ofMinutes(1), () -> {
      try {
        bucket.headObject(h -> h.bucket(done.bucket()).key(done.key()));
        return true;
      } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
        return false;
      }
    });
    return object;
  }
}
