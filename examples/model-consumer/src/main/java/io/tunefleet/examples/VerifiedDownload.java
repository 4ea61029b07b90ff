package io.tunefleet.examples;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Fetches a file the fleet announced (a {@code file:} URI, or an {@code https://} URL such as a presigned S3 link)
 * and returns its bytes only when they are exactly the announced file: size (when known) and sha256 must match.
 */
public final class VerifiedDownload {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
      .followRedirects(HttpClient.Redirect.NORMAL).build();

  private VerifiedDownload() {}

  /**
   * @param sizeBytes the announced size, or a negative number when only the hash is known (a card's entry)
   */
  public static byte[] fetch(String uri, String sha256, long sizeBytes) throws IOException {
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw new IOException("refusing " + shown(uri) + ": no sha256 announced for it (was '" + sha256 + "')");
    }
    byte[] bytes = read(uri);
    String shown = shown(uri);
    if (sizeBytes >= 0 && bytes.length != sizeBytes) {
      throw new IOException("refusing " + shown + ": size mismatch, it has " + bytes.length
          + " bytes but " + sizeBytes + " were announced");
    }
    String actual = sha256(bytes);
    if (!actual.equals(sha256)) {
      throw new IOException("refusing " + shown + ": sha256 mismatch, the file hashes to " + actual
          + " but " + sha256 + " was announced");
    }
    return bytes;
  }

  static byte[] read(String uri) throws IOException {
    URI u;
    try {
      u = URI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new IOException("not a URI: '" + uri + "'", e);
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme();
    switch (scheme) {
      case "file":
        return Files.readAllBytes(Path.of(u));
      case "https":
      case "http":
        try {
          HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(u).timeout(Duration.ofMinutes(5)).GET().build(),
              HttpResponse.BodyHandlers.ofByteArray());
          if (r.statusCode() != 200) {
            throw new IOException("GET " + redacted(u) + " answered HTTP " + r.statusCode());
          }
          return r.body();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while fetching " + redacted(u), e);
        }
      default:
        throw new IOException("cannot fetch '" + uri + "': only file:, https: and http: URIs are supported");
    }
  }

  /** {@code uri} for a message: an http(s) URL without its query. */
  static String shown(String uri) {
    try {
      URI u = URI.create(uri);
      return u.getScheme() != null && u.getScheme().startsWith("http") ? redacted(u) : uri;
    } catch (IllegalArgumentException e) {
      return uri;
    }
  }

  /** A presigned URL's query is a credential: keep it out of messages. */
  private static String redacted(URI u) {
    return u.getScheme() + "://" + u.getAuthority() + u.getPath() + (u.getQuery() == null ? "" : "?…");
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
