package io.tunefleet.common.blob;

import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The blob store on S3 or an S3-compatible server (MinIO, Ceph RGW, GCS's S3 API), addressed by
 * {@code s3://bucket/key} URI. A PUT is atomic (a reader sees the old object or the whole new one) and
 * replacing an object with the same bytes is harmless, so the folder store's guarantees hold unchanged.
 * Opening the store checks the bucket, the credentials and the endpoint, so bad configuration stops a
 * service at start, before it takes a job. Each request is timed by operation and outcome.
 */
public final class S3BlobStore implements BlobStore {
  /** How long the whole-store gauge reuses one listing: a scrape must not list the bucket every 15 s. */
  private static final Duration USED_BYTES_CACHE = Duration.ofSeconds(60);
  /** Attempts per S3 request, the first included. */
  static final int MAX_ATTEMPTS = 6;

  private final S3Client s3;
  private final S3Presigner presigner;
  private final S3Settings settings;
  private final S3Location root;
  private final BlobMetrics metrics;
  private volatile boolean batchDeletes = true;
  private volatile long usedBytes = -1;
  private volatile long usedBytesAt;

  private S3BlobStore(S3Client s3, S3Presigner presigner, S3Settings settings, BlobMetrics metrics) {
    this.s3 = s3;
    this.presigner = presigner;
    this.settings = settings;
    this.root = settings.root();
    this.metrics = metrics;
  }

  /**
   * Connects and checks that the bucket exists and the credentials may use it. Each failure is a
   * {@link BlobStoreUnavailableException} naming the setting to fix: FLEET_BLOB_ROOT (unknown bucket),
   * the credentials, FLEET_S3_ENDPOINT (unreachable) or FLEET_S3_REGION.
   */
  public static S3BlobStore open(S3Settings settings, MeterRegistry registry) throws BlobStoreUnavailableException {
    Region region = region(settings);
    AwsCredentialsProvider credentials = settings.credentials() != null ? settings.credentials()
        : DefaultCredentialsProvider.builder().build();
    S3Configuration s3Config = S3Configuration.builder().pathStyleAccessEnabled(settings.endpoint() != null).build();
    S3ClientBuilder builder = S3Client.builder()
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(60)))
        .region(region).credentialsProvider(credentials).serviceConfiguration(s3Config)
        // a failed blob request dead-letters its record: ride out throttling (503 SlowDown) and brief outages
        // with more attempts than the SDK's 3 (standard strategy: exponential backoff with jitter)
        .overrideConfiguration(o -> o.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy
            .standardRetryStrategy().toBuilder().maxAttempts(MAX_ATTEMPTS).build()))
        // the fleet checks sha256 itself; the SDK's default CRC32 trailers are not understood by every S3-compatible server
        .requestChecksumCalculation(software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED);
    S3Presigner.Builder presigner = S3Presigner.builder().region(region).credentialsProvider(credentials)
        .serviceConfiguration(s3Config);
    if (settings.endpoint() != null) {
      builder.endpointOverride(settings.endpoint());
      presigner.endpointOverride(settings.endpoint());
    }
    S3BlobStore store = new S3BlobStore(builder.build(), presigner.build(), settings, new BlobMetrics(registry, "s3"));
    try {
      store.checkBucket();
    } catch (BlobStoreUnavailableException e) {
      store.close();
      throw e;
    }
    return store;
  }

  private static Region region(S3Settings settings) throws BlobStoreUnavailableException {
    if (!settings.region().isEmpty()) {
      return Region.of(settings.region());
    }
    try {
      return new DefaultAwsRegionProviderChain().getRegion();
    } catch (SdkClientException e) {
      if (settings.endpoint() != null) {
        return Region.US_EAST_1; // S3-compatible servers accept any region in the signature; MinIO's default
      }
      throw new BlobStoreUnavailableException("FLEET_S3_REGION: not set, and the AWS SDK found no region "
          + "(AWS_REGION, the profile) for " + settings.root());
    }
  }

  private void checkBucket() throws BlobStoreUnavailableException {
    checkBucket(root, settings.rootSetting());
  }

  /**
   * Checks at start-up that a bucket this store reads besides its own (a dataset prefix of FLEET_DATA_ROOTS) exists
   * and the credentials may use it; a failure names {@code setting}.
   */
  public void checkBucket(S3Location where, String setting) throws BlobStoreUnavailableException {
    long start = System.nanoTime();
    try {
      s3.headBucket(b -> b.bucket(where.bucket()));
      metrics.request("HeadBucket", BlobMetrics.Outcome.OK, System.nanoTime() - start);
    } catch (SdkException e) {
      metrics.request("HeadBucket", outcome(e), System.nanoTime() - start);
      throw startupProblem(e, where, setting);
    }
  }

  private BlobStoreUnavailableException startupProblem(SdkException e, S3Location root, String setting) {
    if (e instanceof NoSuchBucketException || e instanceof S3Exception s && s.statusCode() == 404) {
      return new BlobStoreUnavailableException(setting + ": bucket '" + root.bucket() + "' does not exist at "
          + settings.where() + " (create it, or fix the bucket in " + root + ")");
    }
    if (e instanceof S3Exception s && (s.statusCode() == 403 || s.statusCode() == 401)) {
      return new BlobStoreUnavailableException("S3 credentials: access to bucket '" + root.bucket() + "' at "
          + settings.where() + " was denied (HTTP " + s.statusCode() + "): wrong AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,"
          + " profile or role, or no permission on the bucket");
    }
    if (e instanceof S3Exception s && s.statusCode() == 301) {
      return new BlobStoreUnavailableException("FLEET_S3_REGION: bucket '" + root.bucket()
          + "' lies in another region than " + (settings.region().isEmpty() ? "the default" : settings.region()));
    }
    if (unreachable(e)) {
      return new BlobStoreUnavailableException((settings.endpoint() != null ? "FLEET_S3_ENDPOINT: " : "S3: ")
          + "cannot reach " + settings.where() + ": " + rootCause(e).getMessage());
    }
    if (e instanceof SdkClientException && String.valueOf(e.getMessage()).contains("credentials")) {
      return new BlobStoreUnavailableException("S3 credentials: none found (set AWS_ACCESS_KEY_ID and "
          + "AWS_SECRET_ACCESS_KEY, a profile, or a role for the pod)");
    }
    return new BlobStoreUnavailableException("S3 blob store " + root + " at " + settings.where() + " cannot be used: "
        + e.getMessage());
  }

  private static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof SocketTimeoutException
          || t instanceof java.net.NoRouteToHostException) {
        return true;
      }
    }
    return false;
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  public S3Settings settings() {
    return settings;
  }

  @Override
  public String rootUri() {
    return root.uri();
  }

  @Override
  public BlobRef put(String relativePath, byte[] bytes) throws IOException {
    S3Location target = root.resolve(relativePath);
    String sha = BlobStore.sha256(bytes);
    call("PutObject", target, () -> s3.putObject(b -> b.bucket(target.bucket()).key(target.key())
        .contentLength((long) bytes.length).metadata(Map.of("sha256", sha)), RequestBody.fromBytes(bytes)));
    metrics.written(bytes.length);
    return BlobRef.newBuilder().setUri(target.uri()).setSha256(sha).setSizeBytes(bytes.length).build();
  }

  @Override
  public byte[] get(BlobRef ref) throws IOException {
    S3Location object = inStore(ref.getUri());
    byte[] bytes;
    try {
      bytes = getBytes(object);
    } catch (NoSuchFileException e) {
      throw new CorruptBlobException(ref.getUri(), "missing");
    }
    return BlobRefs.verified(ref, bytes);
  }

  private byte[] getBytes(S3Location object) throws IOException {
    ResponseBytes<GetObjectResponse> response = call("GetObject", object,
        () -> s3.getObject(b -> b.bucket(object.bucket()).key(object.key()), ResponseTransformer.toBytes()));
    byte[] bytes = response.asByteArrayUnsafe();
    metrics.read(bytes.length);
    return bytes;
  }

  @Override
  public boolean exists(String relativePath) {
    S3Location object = root.resolve(relativePath);
    try {
      call("HeadObject", object, () -> s3.headObject(b -> b.bucket(object.bucket()).key(object.key())));
      return true;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public BlobRef refOf(String relativePath) throws IOException {
    S3Location object = root.resolve(relativePath);
    byte[] bytes = getBytes(object);
    return BlobRef.newBuilder().setUri(object.uri()).setSha256(BlobStore.sha256(bytes)).setSizeBytes(bytes.length).build();
  }

  @Override
  public byte[] read(String relativePath) throws IOException {
    return getBytes(root.resolve(relativePath));
  }

  @Override
  public void deleteTree(String relativePath) throws IOException {
    S3Location folder = root.resolve(relativePath).asFolder();
    List<S3Object> objects = listObjects(folder);
    for (int from = 0; from < objects.size(); from += 1000) {
      List<S3Object> chunk = objects.subList(from, Math.min(objects.size(), from + 1000));
      if (batchDeletes) {
        List<ObjectIdentifier> ids = chunk.stream().map(o -> ObjectIdentifier.builder().key(o.key()).build()).toList();
        try {
          DeleteObjectsResponse response = call("DeleteObjects", folder, () -> s3.deleteObjects(b -> b.bucket(folder.bucket())
              .delete(Delete.builder().objects(ids).quiet(true).build())));
          if (response.hasErrors() && !response.errors().isEmpty()) {
            throw new IOException("cannot delete " + response.errors().size() + " objects under " + folder + ": "
                + response.errors().get(0).code() + " " + response.errors().get(0).message());
          }
          continue;
        } catch (IOException e) {
          if (!(e.getCause() instanceof S3Exception s && s.statusCode() == 501)) {
            throw e;
          }
          // a server without the SDK's checksum header on multi-object deletes (S3Proxy, older MinIO/Ceph):
          // delete one by one from now on; deleting is idempotent
          batchDeletes = false;
        }
      }
      for (S3Object o : chunk) {
        call("DeleteObject", folder, () -> s3.deleteObject(b -> b.bucket(folder.bucket()).key(o.key())));
      }
    }
  }

  @Override
  public void delete(BlobRef ref) throws IOException {
    S3Location object = inStore(ref.getUri());
    call("DeleteObject", object, () -> s3.deleteObject(b -> b.bucket(object.bucket()).key(object.key())));
  }

  @Override
  public void delete(String relativePath) throws IOException {
    S3Location object = root.resolve(relativePath);
    call("DeleteObject", object, () -> s3.deleteObject(b -> b.bucket(object.bucket()).key(object.key())));
  }

  @Override
  public long usedBytes(String relativePath) {
    try {
      return listObjects(root.resolve(relativePath).asFolder()).stream().mapToLong(S3Object::size).sum();
    } catch (IOException e) {
      return -1;
    }
  }

  @Override
  public long usedBytes() {
    long now = System.nanoTime();
    if (usedBytes < 0 || now - usedBytesAt > USED_BYTES_CACHE.toNanos()) {
      try {
        usedBytes = listObjects(root).stream().mapToLong(S3Object::size).sum();
        usedBytesAt = now;
      } catch (IOException e) {
        return -1;
      }
    }
    return usedBytes;
  }

  @Override
  public List<String> list(String relativePath) throws IOException {
    String rootKey = root.asFolder().key();
    return listObjects(root.resolve(relativePath).asFolder()).stream().map(o -> o.key().substring(rootKey.length()))
        .sorted().toList();
  }

  /** Every object under a folder, any bucket the credentials can list (datasets under FLEET_DATA_ROOTS). */
  public List<S3Object> listObjects(S3Location folder) throws IOException {
    List<S3Object> all = new ArrayList<>();
    String token = null;
    do {
      ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(folder.bucket()).prefix(folder.key());
      if (token != null) {
        request.continuationToken(token);
      }
      ListObjectsV2Response page = call("ListObjectsV2", folder, () -> s3.listObjectsV2(request.build()));
      all.addAll(page.contents());
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    return all;
  }

  @Override
  public InputStream open(String uri) throws IOException {
    return open(S3Location.parse(uri));
  }

  /** Streams an object of any bucket the credentials can read (a dataset's photo); no hash check. */
  public InputStream open(S3Location object) throws IOException {
    InputStream in = call("GetObject", object, () -> s3.getObject(b -> b.bucket(object.bucket()).key(object.key())));
    return new CountingInputStream(in, metrics::read);
  }

  /** The size of an object of any bucket the credentials can read; a missing one is a {@link NoSuchFileException}. */
  public long size(S3Location object) throws IOException {
    return call("HeadObject", object, () -> s3.headObject(b -> b.bucket(object.bucket()).key(object.key()))).contentLength();
  }

  /**
   * Up to {@code length} bytes of an object from {@code offset}, fewer at its end, in one ranged GET: a photo's
   * header and end marker are checked at acceptance without reading the photo whole.
   */
  public byte[] read(S3Location object, long offset, int length) throws IOException {
    if (length <= 0) {
      return new byte[0];
    }
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    try {
      byte[] bytes = call("GetObject", object, () -> s3.getObject(b -> b.bucket(object.bucket()).key(object.key()).range(range),
          ResponseTransformer.toBytes())).asByteArrayUnsafe();
      metrics.read(bytes.length);
      return bytes;
    } catch (IOException e) {
      if (e.getCause() instanceof S3Exception s && s.statusCode() == 416) {
        return new byte[0]; // the range starts at or past the end: an empty object, or reading its end
      }
      throw e;
    }
  }

  @Override
  public BlobRef presigned(BlobRef ref) {
    if (settings.presign().isZero() || !S3Location.isS3(ref.getUri())) {
      return ref;
    }
    S3Location object = S3Location.parse(ref.getUri());
    String url = presigner.presignGetObject(p -> p.signatureDuration(settings.presign())
        .getObjectRequest(g -> g.bucket(object.bucket()).key(object.key()))).url().toString();
    return ref.toBuilder().setPresignedUrl(url).build();
  }

  /** The object a blob URI names; only s3: URIs inside this store's root are accepted. */
  private S3Location inStore(String uri) {
    if (!S3Location.isS3(uri)) {
      throw new IllegalArgumentException("blob URI must use the s3: scheme, was " + uri);
    }
    S3Location object = S3Location.parse(uri);
    if (!root.contains(object)) {
      throw new IllegalArgumentException("blob URI " + uri + " lies outside the blob store " + root);
    }
    return object;
  }

  /**
   * Runs one S3 request, timing it by operation and outcome. A missing object is a
   * {@link NoSuchFileException}; every other failure an {@link IOException} naming the object.
   */
  private <T> T call(String operation, S3Location object, Supplier<T> request) throws IOException {
    long start = System.nanoTime();
    try {
      T result = request.get();
      metrics.request(operation, BlobMetrics.Outcome.OK, System.nanoTime() - start);
      return result;
    } catch (SdkException e) {
      BlobMetrics.Outcome outcome = outcome(e);
      metrics.request(operation, outcome, System.nanoTime() - start);
      if (outcome == BlobMetrics.Outcome.NOT_FOUND) {
        NoSuchFileException missing = new NoSuchFileException(object.uri());
        missing.initCause(e);
        throw missing;
      }
      throw new IOException(operation + " " + object + " failed: " + e.getMessage(), e);
    }
  }

  private static BlobMetrics.Outcome outcome(SdkException e) {
    if (e instanceof NoSuchKeyException || e instanceof S3Exception s && s.statusCode() == 404) {
      return BlobMetrics.Outcome.NOT_FOUND;
    }
    if (e instanceof S3Exception s && (s.statusCode() == 403 || s.statusCode() == 401)) {
      return BlobMetrics.Outcome.DENIED;
    }
    return BlobMetrics.Outcome.ERROR;
  }

  @Override
  public void close() {
    s3.close();
    presigner.close();
  }
}
