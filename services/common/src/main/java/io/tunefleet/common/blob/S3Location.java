package io.tunefleet.common.blob;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * An {@code s3://BUCKET/PREFIX} location: the blob root, or an object. {@link #parse} names what is wrong with
 * a malformed URI (the bucket name rules of S3: 3-63 lowercase letters, digits, dots and hyphens).
 */
public record S3Location(String bucket, String key) {
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  /** Whether {@code value} is meant as an S3 URI (its scheme is s3). */
  public static boolean isS3(String value) {
    return value != null && value.regionMatches(true, 0, "s3:", 0, 3);
  }

  /** Parses {@code s3://bucket[/key]}; the problem, in words, is the exception's message. */
  public static S3Location parse(String value) {
    if (!value.startsWith("s3://")) {
      throw new IllegalArgumentException("'" + value + "' is not an s3://BUCKET/PREFIX URI");
    }
    String rest = value.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String key = slash < 0 ? "" : rest.substring(slash + 1);
    if (bucket.isEmpty()) {
      throw new IllegalArgumentException("'" + value + "' names no bucket (expected s3://BUCKET/PREFIX)");
    }
    if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
      throw new IllegalArgumentException("'" + value + "': bucket '" + bucket
          + "' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)");
    }
    if (key.startsWith("/") || key.contains("//")) {
      throw new IllegalArgumentException("'" + value + "': the prefix must not contain empty path segments");
    }
    for (String segment : key.split("/")) {
      if (segment.equals("..") || segment.equals(".")) {
        throw new IllegalArgumentException("'" + value + "': the prefix must not contain '.' or '..'");
      }
    }
    try {
      URI.create("s3://" + bucket + "/" + key);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + value + "' is not a valid URI: " + e.getMessage());
    }
    return new S3Location(bucket, key);
  }

  /** This location as a folder: its key ends with '/' (or is empty, the bucket's root). */
  public S3Location asFolder() {
    return key.isEmpty() || key.endsWith("/") ? this : new S3Location(bucket, key + "/");
  }

  /** The object {@code relativePath} below this folder; a path that would climb out of it is refused. */
  public S3Location resolve(String relativePath) {
    if (relativePath.isEmpty() || relativePath.startsWith("/")) {
      throw new IllegalArgumentException("blob path '" + relativePath + "' escapes the blob store");
    }
    for (String segment : relativePath.split("/")) {
      if (segment.equals("..") || segment.equals(".") || segment.isEmpty()) {
        throw new IllegalArgumentException("blob path '" + relativePath + "' escapes the blob store");
      }
    }
    return new S3Location(bucket, asFolder().key + relativePath);
  }

  /** Whether {@code other} lies in this folder. */
  public boolean contains(S3Location other) {
    return other.bucket.equals(bucket) && other.key.startsWith(asFolder().key);
  }

  public String uri() {
    return "s3://" + bucket + "/" + key;
  }

  @Override
  public String toString() {
    return uri();
  }
}
