package io.tunefleet.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The blob-store settings: an s3:// root selects S3, and a malformed one is a named error at load time. */
class FleetConfigTest {
  private static FleetConfig load(JsonObject settings) {
    return FleetConfig.load(settings, Map.of());
  }

  @Test
  void anS3RootSelectsS3AndKeepsLocalStateInDotFleet() {
    FleetConfig c = load(new JsonObject().put("FLEET_BLOB_ROOT", "s3://fleet-bucket/team-a/runs")
        .put("FLEET_DATA_ROOTS", "datasets"));
    assertTrue(c.blobsOnS3());
    assertEquals(Path.of(".fleet").toAbsolutePath(), c.localStateDir());
    assertEquals(java.util.List.of(Path.of("datasets").toAbsolutePath()), c.dataRoots(), "no local blob root to read from");
    assertThrows(IllegalStateException.class, c::blobRoot);
    FleetConfig folder = load(new JsonObject().put("FLEET_BLOB_ROOT", "/tmp/blobs"));
    assertFalse(folder.blobsOnS3());
    assertEquals(Path.of("/tmp/blobs"), folder.localStateDir());
  }

  @Test
  void dataRootsMayMixFoldersAndS3PrefixesAndAMalformedPrefixIsANamedError() {
    FleetConfig c = load(new JsonObject().put("FLEET_BLOB_ROOT", "s3://fleet-bucket/runs")
        .put("FLEET_DATA_ROOTS", "datasets:s3://photos-bucket/teams/vision:/srv/data:s3://shared-data"));
    assertEquals(java.util.List.of(Path.of("datasets").toAbsolutePath(), Path.of("/srv/data")), c.dataRoots(),
        "the colon of s3:// separates no entries");
    assertEquals(java.util.List.of("s3://photos-bucket/teams/vision/", "s3://shared-data/"),
        c.objectDataRoots().stream().map(io.tunefleet.common.blob.S3Location::uri).toList());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(new JsonObject()
        .put("FLEET_DATA_ROOTS", "datasets:s3://Photos_Bucket/x:s3://ok-bucket/a/../b")));
    String m = e.getMessage();
    assertTrue(m.contains("FLEET_DATA_ROOTS: 's3://Photos_Bucket/x': bucket 'Photos_Bucket' is not a valid S3 bucket name"), m);
    assertTrue(m.contains("'s3://ok-bucket/a/../b': the prefix must not contain '.' or '..'"), m);
  }

  @Test
  void aMalformedS3RootOrEndpointIsANamedErrorListingEveryProblem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(new JsonObject()
        .put("FLEET_BLOB_ROOT", "s3://Bad_Bucket/x").put("FLEET_S3_ENDPOINT", "minio:9000")
        .put("FLEET_PRESIGN_SECONDS", "-1").put("FLEET_KEEP_CHECKPOINTS", "some")));
    String m = e.getMessage();
    assertTrue(m.contains("FLEET_BLOB_ROOT: 's3://Bad_Bucket/x': bucket 'Bad_Bucket' is not a valid S3 bucket name"), m);
    assertTrue(m.contains("FLEET_S3_ENDPOINT: must be an http:// or https:// URL with a host"), m);
    assertTrue(m.contains("FLEET_PRESIGN_SECONDS: must be in 0..604800, was -1"), m);
    assertTrue(m.contains("FLEET_KEEP_CHECKPOINTS: must be one of best-and-last, all, was 'some'"), m);
    for (String bad : new String[] {"s3://", "s3:///prefix", "s3://ab/x", "s3://bucket/a/../b", "s3://bucket//x"}) {
      IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
          () -> load(new JsonObject().put("FLEET_BLOB_ROOT", bad)), bad);
      assertTrue(b.getMessage().startsWith("invalid configuration: FLEET_BLOB_ROOT: '" + bad + "'"), b.getMessage());
    }
  }
}
