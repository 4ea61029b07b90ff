package io.tunefleet.common.blob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.testing.S3TestServer;
import io.tunefleet.proto.v1.BlobRef;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** The blob store contract on a real S3 server (S3Proxy, started here), and what only S3 has: start-up checks, presigning. */
class S3BlobStoreTest extends BlobStoreContract {
  static S3TestServer server;
  static S3Client raw;
  S3BlobStore store;

  @BeforeAll
  static void startServer() {
    server = S3TestServer.start();
    raw = server.client();
  }

  @AfterAll
  static void stopServer() {
    raw.close();
    server.close();
  }

  @BeforeEach
  void open() throws Exception {
    store = server.store(server.newRoot("fleet-blobs", "contract"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Override
  BlobStore store() {
    return store;
  }

  @Override
  void tamper(BlobRef ref, byte[] bytes) {
    S3Location o = S3Location.parse(ref.getUri());
    raw.putObject(b -> b.bucket(o.bucket()).key(o.key()), RequestBody.fromBytes(bytes));
  }

  @Override
  void remove(BlobRef ref) {
    S3Location o = S3Location.parse(ref.getUri());
    raw.deleteObject(b -> b.bucket(o.bucket()).key(o.key()));
  }

  @Override
  String scheme() {
    return "s3";
  }

  @Test
  void refusesAnS3UriOutsideItsPrefix() throws Exception {
    BlobRef ref = store.put("a.bin", new byte[] {1});
    BlobRef other = ref.toBuilder().setUri("s3://fleet-blobs/another-prefix/a.bin").build();
    assertThrows(IllegalArgumentException.class, () -> store.get(other));
  }

  @Test
  void datasetReadsTakeRangesSizesAndKeysWithSpacesInAnyReadableBucket() throws Exception {
    server.newRoot("dataset-bucket", "x");
    byte[] bytes = new byte[1000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) i;
    }
    raw.putObject(b -> b.bucket("dataset-bucket").key("team/my photos/a 1.png"), RequestBody.fromBytes(bytes));
    raw.putObject(b -> b.bucket("dataset-bucket").key("team/empty.png"), RequestBody.fromBytes(new byte[0]));
    S3Location photo = new S3Location("dataset-bucket", "team/my photos/a 1.png");

    assertEquals(1000, store.size(photo));
    assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(bytes, 10, 20)),
        java.util.Arrays.toString(store.read(photo, 10, 10)));
    assertEquals(24, store.read(photo, 976, 64 * 1024).length, "fewer bytes at the end");
    assertEquals(0, store.read(photo, 1000, 16).length, "a range past the end is empty");
    assertEquals(0, store.read(new S3Location("dataset-bucket", "team/empty.png"), 0, 64 * 1024).length);
    try (var in = store.open(photo)) {
      assertEquals(1000, in.readAllBytes().length);
    }
    assertThrows(java.nio.file.NoSuchFileException.class, () -> store.size(new S3Location("dataset-bucket", "team/none.png")));
    var e = assertThrows(BlobStoreUnavailableException.class,
        () -> store.checkBucket(S3Location.parse("s3://no-such-data/x"), "FLEET_DATA_ROOTS"));
    assertTrue(e.getMessage().startsWith("FLEET_DATA_ROOTS: bucket 'no-such-data' does not exist"), e.getMessage());
  }

  @Test
  void anUnknownBucketStopsTheStoreNamingTheSetting() {
    var e = assertThrows(BlobStoreUnavailableException.class, () -> server.store("s3://no-such-bucket/x/"));
    assertTrue(e.getMessage().startsWith("FLEET_BLOB_ROOT: bucket 'no-such-bucket' does not exist"), e.getMessage());
  }

  @Test
  void wrongCredentialsStopTheStoreWithoutPrintingThem() {
    S3Settings wrong = server.settings(server.newRoot("fleet-blobs", "creds"))
        .withCredentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("someone", "not-the-secret")));
    var e = assertThrows(BlobStoreUnavailableException.class, () -> S3BlobStore.open(wrong, null));
    assertTrue(e.getMessage().startsWith("S3 credentials: access to bucket 'fleet-blobs'"), e.getMessage());
    assertTrue(!e.getMessage().contains("not-the-secret") && !e.getMessage().contains(S3TestServer.SECRET_KEY), e.getMessage());
  }

  @Test
  void anUnreachableEndpointStopsTheStoreNamingTheSetting() throws Exception {
    int closedPort;
    try (var s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    S3Settings s = server.settings("s3://fleet-blobs/x/");
    S3Settings unreachable = new S3Settings(s.root(), URI.create("http://127.0.0.1:" + closedPort), s.region(), s.presign(),
        s.credentials());
    var e = assertThrows(BlobStoreUnavailableException.class, () -> S3BlobStore.open(unreachable, null));
    assertTrue(e.getMessage().startsWith("FLEET_S3_ENDPOINT: cannot reach http://127.0.0.1:" + closedPort), e.getMessage());
  }

  @Test
  void aPresignedUrlFetchesTheObjectWithoutCredentialsForTheConfiguredTime() throws Exception {
    S3Settings s = server.settings(server.newRoot("fleet-blobs", "presign"));
    try (S3BlobStore presigning = S3BlobStore.open(new S3Settings(s.root(), s.endpoint(), s.region(), Duration.ofSeconds(600),
        s.credentials()), null)) {
      BlobRef ref = presigning.presigned(presigning.put("jobs/j/models/student.model", new byte[] {4, 5, 6}));
      assertTrue(ref.getPresignedUrl().startsWith(server.endpoint() + "/fleet-blobs/"), ref.getPresignedUrl());
      assertTrue(ref.getPresignedUrl().contains("X-Amz-Expires=600"), ref.getPresignedUrl());
      HttpResponse<byte[]> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ref.getPresignedUrl())).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, response.statusCode());
      assertEquals(ref.getSha256(), BlobStore.sha256(response.body()));
    }
    assertEquals("", store.presigned(store.put("a.bin", new byte[] {1})).getPresignedUrl(), "FLEET_PRESIGN_SECONDS=0: no URL");
  }

  @Test
  void countsRequestsErrorsAndBytesPerOperation() throws Exception {
    var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    try (S3BlobStore metered = S3BlobStore.open(store.settings(), registry)) {
      BlobRef ref = metered.put("m.bin", new byte[100]);
      metered.get(ref);
      metered.exists("nothing-here");
      assertEquals(1, registry.get("fleet.blob.s3.requests").tags("operation", "PutObject", "outcome", "ok").timer().count());
      assertEquals(1, registry.get("fleet.blob.s3.requests").tags("operation", "HeadObject", "outcome", "not_found").timer().count());
      assertEquals(100, registry.get("fleet.blob.written").tags("store", "s3").counter().count());
      assertEquals(100, registry.get("fleet.blob.read").tags("store", "s3").counter().count());
    }
  }
}
