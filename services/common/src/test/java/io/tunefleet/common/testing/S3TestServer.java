package io.tunefleet.common.testing;

import io.tunefleet.common.blob.S3BlobStore;
import io.tunefleet.common.blob.S3Location;
import io.tunefleet.common.blob.S3Settings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server for tests, without Docker: S3Proxy (Jetty + jclouds' in-memory store, AWS SigV4
 * authentication) in a child JVM with a classpath of its own ({@code services/s3-test-server}: its Gson,
 * Guice and Jetty clash with the services'). Tests reach it as the services reach AWS S3 or MinIO: through the
 * AWS SDK, an endpoint ({@code FLEET_S3_ENDPOINT}) and credentials. Starting one also sets the SDK's
 * system-property credentials ({@code aws.accessKeyId}, {@code aws.secretAccessKey}) in this JVM, so that
 * services started here find them through the default chain; child processes get {@link #environment()}.
 * The server exits with the test JVM (it watches its standard input).
 */
public final class S3TestServer implements AutoCloseable {
  public static final String ACCESS_KEY = "fleet-test-access";
  public static final String SECRET_KEY = "fleet-test-secret-key";
  private static final String CLASSPATH_RESOURCE = "fleet-s3proxy.classpath";

  private final Process process;
  private final URI endpoint;

  private S3TestServer(Process process, URI endpoint) {
    this.process = process;
    this.endpoint = endpoint;
  }

  /** Starts a server on a free local port, with the given buckets. */
  public static S3TestServer start(String... buckets) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dfleet.s3proxy.exitWithStdin=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath(), "io.tunefleet.s3test.S3ProxyMain",
        "0", ACCESS_KEY, SECRET_KEY));
    cmd.addAll(List.of(buckets));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the S3 test server: " + e.getMessage(), e);
    }
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        for (String l; (l = out.readLine()) != null; ) {
          if (l.startsWith("listening on ")) {
            return l.substring("listening on ".length()).trim();
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    });
    String url;
    try {
      url = line.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      url = null;
    }
    if (url == null) {
      p.destroyForcibly();
      throw new IllegalStateException("the S3 test server (S3Proxy) did not start; exit " + (p.isAlive() ? "-" : p.exitValue()));
    }
    // keep draining its output so that it never blocks on a full pipe
    CompletableFuture.runAsync(() -> {
      try {
        out.transferTo(java.io.Writer.nullWriter());
      } catch (IOException e) {
        // the server ended
      }
    });
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    return new S3TestServer(p, URI.create(url));
  }

  /** The launcher's jar (or classes folder) and S3Proxy's resolved classpath, from services/s3-test-server. */
  private static String classpath() {
    URL resource = S3TestServer.class.getClassLoader().getResource(CLASSPATH_RESOURCE);
    if (resource == null) {
      throw new IllegalStateException(CLASSPATH_RESOURCE + " not on the test classpath: add the fleet-s3-test-server "
          + "test dependency");
    }
    try (var in = resource.openStream()) {
      String deps = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      String own;
      if ("jar".equals(resource.getProtocol())) {
        String jar = resource.getPath().substring(0, resource.getPath().indexOf("!/"));
        own = Path.of(URI.create(jar)).toString();
      } else {
        own = Path.of(resource.toURI()).getParent().toString();
      }
      return own + java.io.File.pathSeparator + deps;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + resource + ": " + e.getMessage(), e);
    }
  }

  /** The endpoint for {@code FLEET_S3_ENDPOINT}. */
  public URI endpoint() {
    return endpoint;
  }

  /** What a child process needs to reach this server through the SDK's default chain (credentials, region). */
  public java.util.Map<String, String> environment() {
    return java.util.Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY, "AWS_REGION", "us-east-1");
  }

  /** Creates the bucket if needed and returns a fresh root in it: {@code s3://bucket/PREFIX-xxxxxxxx/}. */
  public String newRoot(String bucket, String prefix) {
    try (S3Client s3 = client()) {
      if (s3.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(bucket))) {
        s3.createBucket(b -> b.bucket(bucket));
      }
    }
    return "s3://" + bucket + "/" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8) + "/";
  }

  /** Settings of an S3 blob store at {@code root} on this server, with its credentials. */
  public S3Settings settings(String root) {
    return new S3Settings(S3Location.parse(root).asFolder(), endpoint, "us-east-1", Duration.ZERO,
        StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
  }

  /** An S3 blob store at {@code root} on this server. */
  public S3BlobStore store(String root) throws IOException {
    return S3BlobStore.open(settings(root), null);
  }

  /** A plain SDK client of this server, for tests that look at (or tamper with) objects behind the store's back. */
  public S3Client client() {
    return S3Client.builder().endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .httpClientBuilder(UrlConnectionHttpClient.builder())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .build();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
