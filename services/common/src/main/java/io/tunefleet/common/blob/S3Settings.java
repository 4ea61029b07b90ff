package io.tunefleet.common.blob;

import io.tunefleet.common.config.FleetConfig;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * How to reach the S3 blob store: the root ({@code FLEET_BLOB_ROOT=s3://BUCKET/PREFIX}), an endpoint for
 * S3-compatible servers ({@code FLEET_S3_ENDPOINT}, addressed path-style), the region ({@code FLEET_S3_REGION})
 * and how long presigned URLs last ({@code FLEET_PRESIGN_SECONDS}). Credentials come from the AWS SDK's
 * default chain unless a provider is given (tests); they are never part of this record's text.
 */
public record S3Settings(S3Location root, URI endpoint, String region, Duration presign, AwsCredentialsProvider credentials,
    String rootSetting) {

  /** A blob store's settings: its root is FLEET_BLOB_ROOT. */
  public S3Settings(S3Location root, URI endpoint, String region, Duration presign, AwsCredentialsProvider credentials) {
    this(root, endpoint, region, presign, credentials, FleetConfig.BLOB_ROOT.key());
  }

  public static S3Settings of(FleetConfig config) {
    return at(config, S3Location.parse(config.get(FleetConfig.BLOB_ROOT).trim()), FleetConfig.BLOB_ROOT.key());
  }

  /**
   * Settings to read datasets under FLEET_DATA_ROOTS when the blob store is a folder: the same endpoint, region and
   * credentials, rooted at the first s3:// data root (start-up errors then name FLEET_DATA_ROOTS).
   */
  public static S3Settings ofDataRoot(FleetConfig config, S3Location dataRoot) {
    return at(config, dataRoot, FleetConfig.DATA_ROOTS.key());
  }

  private static S3Settings at(FleetConfig config, S3Location root, String rootSetting) {
    String endpoint = config.get(FleetConfig.S3_ENDPOINT).trim();
    return new S3Settings(root.asFolder(), endpoint.isEmpty() ? null : URI.create(endpoint),
        config.get(FleetConfig.S3_REGION).trim(), Duration.ofSeconds(config.getInt(FleetConfig.PRESIGN_SECONDS)), null,
        rootSetting);
  }

  /** The same settings with explicit credentials instead of the default chain (tests). */
  public S3Settings withCredentials(AwsCredentialsProvider provider) {
    return new S3Settings(root, endpoint, region, presign, provider, rootSetting);
  }

  /** Where the store is, in words, for error messages: the endpoint, else AWS S3 and its region. */
  String where() {
    return endpoint != null ? endpoint.toString() : "AWS S3" + (region.isEmpty() ? "" : " (" + region + ")");
  }

  @Override
  public String toString() {
    return "S3Settings[root=" + root + ", endpoint=" + endpoint + ", region=" + region + ", presign=" + presign + "]";
  }
}
