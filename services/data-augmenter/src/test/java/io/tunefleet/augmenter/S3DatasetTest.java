package io.tunefleet.augmenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.HandlerTestDriver;
import io.tunefleet.common.testing.S3TestServer;
import io.tunefleet.ml.bench.SyntheticPhotos;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.FieldError;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Datasets in object storage, on a real S3 server (S3Proxy): an {@code s3://} image folder and CSV manifest are
 * read as their local copies are, batch for batch, and a request for an s3:// dataset outside FLEET_DATA_ROOTS,
 * under a missing prefix or with a malformed URI is failed naming {@code dataset.images}.
 */
class S3DatasetTest {
  private static final String BUCKET = "photos";
  private static final String ROOT = "s3://" + BUCKET + "/teams/vision";
  private static final List<String> CLASSES = List.of("daisy", "roses", "tulips");
  private static final int PER_CLASS = 6;

  private static S3TestServer server;
  private static Path local;

  @TempDir
  Path blobRoot;

  @BeforeAll
  static void uploadPhotos(@TempDir Path tmp) throws Exception {
    server = S3TestServer.start(BUCKET);
    local = tmp.resolve("flowers");
    List<Path> files = SyntheticPhotos.writeFolder(local, CLASSES, PER_CLASS, 40, 90, 11);
    StringBuilder manifest = new StringBuilder("path,label,split\n");
    try (S3Client s3 = server.client()) {
      for (int i = 0; i < files.size(); i++) {
        String rel = local.relativize(files.get(i)).toString();
        s3.putObject(b -> b.bucket(BUCKET).key("teams/vision/flowers/" + rel), RequestBody.fromFile(files.get(i)));
        manifest.append("flowers/").append(rel).append(',').append(CLASSES.get(i / PER_CLASS)).append(',')
            .append(i % PER_CLASS < 4 ? "train" : "val").append('\n');
      }
      s3.putObject(b -> b.bucket(BUCKET).key("teams/vision/manifest.csv"), RequestBody.fromString(manifest.toString()));
      // a prefix in the same bucket, but outside the data root: present, so only the policy can refuse it
      s3.putObject(b -> b.bucket(BUCKET).key("teams/audio/clips/a/0.png"), RequestBody.fromFile(files.get(0)));
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private HandlerTestDriver driver(Path root, String dataRoots) {
    return new HandlerTestDriver("data-augmenter", root, Map.of(FleetConfig.DATA_ROOTS.key(), dataRoots,
        FleetConfig.S3_ENDPOINT.key(), server.endpoint().toString()));
  }

  private HandlerTestDriver driver() {
    return driver(blobRoot, HandlerTestDriver.datasets() + ":" + ROOT);
  }

  private static TrainingRequest request(String format, String images) {
    return TrainingRequest.newBuilder().setJobId("flowers").setNumClasses(3)
        .setDataset(DatasetSpec.newBuilder().setFormat(format).setImages(images))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(
            Architecture.newBuilder().setFamily("resnet10").setBaseWidth(8).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(4).setLeadEpochs(1).setImageSize(32))
        .setDistillation(Distillation.newBuilder().setEnabled(false))
        .build();
  }

  private static List<String> batchHashes(HandlerTestDriver d) {
    return d.published(d.topics().batches, BatchRef.parser()).stream().map(r -> r.getBatch().getSha256()).toList();
  }

  @Test
  void anS3ImageFolderIsReadAsItsLocalCopyBatchForBatch(@TempDir Path localBlobs) throws Exception {
    HandlerTestDriver s3 = driver();
    AugmenterHandler handler = new AugmenterHandler(s3.context());
    s3.pipe(handler, s3.topics().requests, "flowers", request("image_folder", ROOT + "/flowers"));

    List<JobStatus> statuses = s3.statuses();
    assertEquals(JobStatus.State.ACCEPTED, statuses.get(0).getState(), statuses.toString());
    List<BatchRef> refs = s3.published(s3.topics().batches, BatchRef.parser());
    int samples = 0;
    for (BatchRef ref : refs) {
      ImageBatch batch = BatchCodec.decode(s3.blobs().get(ref.getBatch()));
      assertEquals(32, batch.height());
      assertTrue(java.util.Arrays.stream(batch.labels()).allMatch(l -> l >= 0 && l < 3));
      samples += batch.size();
    }
    ImageBatch validation = BatchCodec.decode(s3.blobs().get(refs.get(0).getValidation()));
    assertEquals(CLASSES.size() * PER_CLASS, samples + validation.size(), "every photo under the prefix, once");
    handler.close();

    // the same photos from a local folder (inside that fleet's blob root, a data root) give the same batches
    Path copy = localBlobs.resolve("flowers");
    try (var files = Files.walk(local)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.createDirectories(copy.resolve(local.relativize(f)).getParent());
        Files.copy(f, copy.resolve(local.relativize(f)));
      }
    }
    HandlerTestDriver folder = driver(localBlobs, HandlerTestDriver.datasets().toString());
    folder.pipe(new AugmenterHandler(folder.context()), folder.topics().requests, "flowers",
        request("image_folder", copy.toString()));
    assertEquals(refs.stream().map(r -> r.getBatch().getSha256()).toList(), batchHashes(folder),
        "pixels, split and order do not depend on where the photos are stored");
  }

  @Test
  void anS3CsvManifestKeepsItsSplit() throws Exception {
    HandlerTestDriver s3 = driver();
    s3.pipe(new AugmenterHandler(s3.context()), s3.topics().requests, "flowers", request("csv", ROOT + "/manifest.csv"));

    JobStatus status = s3.statuses().get(0);
    assertEquals(JobStatus.State.ACCEPTED, status.getState(), status.toString());
    assertTrue(status.getMessage().contains("12 training and 6 validation images"), status.getMessage());
  }

  @Test
  void s3DatasetsOutsideTheDataRootsMissingOrMalformedAreNamedRequestErrors() throws Exception {
    HandlerTestDriver s3 = driver();
    AugmenterHandler handler = new AugmenterHandler(s3.context());
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("s3://photos/teams/audio/clips", "lies outside the allowed roots [s3://photos/teams/vision/]");
    cases.put("s3://photos/teams/vision/../audio/clips", "lies outside the allowed roots");
    cases.put(ROOT + "/no-such-folder", "no objects under the prefix s3://photos/teams/vision/no-such-folder/");
    cases.put("s3://Photos/teams/vision/flowers", "bucket 'Photos' is not a valid S3 bucket name");
    cases.put("s3:/photos/teams/vision/flowers", "must start with s3:// (lowercase)");
    for (var c : cases.entrySet()) {
      s3.pipe(handler, s3.topics().requests, "flowers", request("image_folder", c.getKey()));
      List<JobStatus> statuses = s3.statuses();
      assertEquals(1, statuses.size(), c.getKey());
      assertEquals(JobStatus.State.FAILED, statuses.get(0).getState(), c.getKey());
      FieldError error = statuses.get(0).getErrors(0);
      assertEquals("dataset.images", error.getField(), c.getKey());
      assertTrue(error.getProblem().contains(c.getValue()), c.getKey() + ": " + error.getProblem());
      s3.drain();
    }
    s3.pipe(handler, s3.topics().requests, "flowers", request("csv", ROOT + "/missing.csv"));
    FieldError error = s3.statuses().get(0).getErrors(0);
    assertEquals("dataset.images", error.getField());
    assertTrue(error.getProblem().contains("the manifest s3://photos/teams/vision/missing.csv does not exist"),
        error.getProblem());
    assertEquals(List.of(), batchHashes(s3), "no batch from a refused request");
  }

  @Test
  void aDataRootInAMissingBucketStopsTheServiceAtStart() {
    HandlerTestDriver s3 = driver(blobRoot, "s3://no-such-bucket/datasets");
    Exception e = assertThrows(java.io.UncheckedIOException.class, () -> new AugmenterHandler(s3.context()));
    assertTrue(e.getMessage().contains("FLEET_DATA_ROOTS: bucket 'no-such-bucket' does not exist"), e.getMessage());
  }
}
