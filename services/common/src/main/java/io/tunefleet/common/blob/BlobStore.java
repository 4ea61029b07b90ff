package io.tunefleet.common.blob;

import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The claim-check store: tensors, datasets, checkpoints and models travel through here, never through Kafka.
 * Paths are relative to the store's root ({@code jobs/JOB/...}, see {@link JobPaths}); references carry the
 * absolute URI ({@code file:} or {@code s3:}), the sha256 and the size. Every implementation guarantees the
 * same three things: a read through {@link #get} checks size and sha256 and never returns other bytes; a
 * reader never sees a partly written object; writing the same path again (a replayed record) is harmless.
 */
public interface BlobStore extends AutoCloseable {

  /** The store {@code FLEET_BLOB_ROOT} names: a folder, or S3 for an {@code s3://BUCKET/PREFIX} root (checked now). */
  static BlobStore open(FleetConfig config, MeterRegistry registry) throws IOException {
    return config.blobsOnS3() ? S3BlobStore.open(S3Settings.of(config), registry) : new FolderBlobStore(config.blobRoot(), registry);
  }

  /** The root as a URI ({@code file:///var/fleet/} or {@code s3://bucket/prefix/}), for logs and messages. */
  String rootUri();

  /** Writes {@code bytes} at {@code relativePath}, replacing any older object, and returns its reference. */
  BlobRef put(String relativePath, byte[] bytes) throws IOException;

  /**
   * Reads a blob and checks its size and hash: a missing object, or one whose size or sha256 differs from the
   * reference, is a {@link CorruptBlobException} naming the URI and the problem, never data.
   */
  byte[] get(BlobRef ref) throws IOException;

  /** Whether an object exists at {@code relativePath}. A store that cannot be reached throws {@link java.io.UncheckedIOException}. */
  boolean exists(String relativePath);

  /** The reference of an object already in the store (hash computed now), e.g. to republish it. */
  BlobRef refOf(String relativePath) throws IOException;

  /**
   * Reads a small object written with {@link #put} at a known path, without a reference (pointers, markers).
   * A missing one is a {@link java.nio.file.NoSuchFileException}.
   */
  byte[] read(String relativePath) throws IOException;

  /** Deletes a folder of the store (every object under {@code relativePath/}) if it exists (consumed batches). */
  void deleteTree(String relativePath) throws IOException;

  /** Deletes the object a reference points at, if it exists. */
  void delete(BlobRef ref) throws IOException;

  /** Deletes the object at {@code relativePath}, if it exists. */
  void delete(String relativePath) throws IOException;

  /** Bytes stored under a folder of the store ({@code jobs/JOB}), or -1 when the store cannot say. */
  long usedBytes(String relativePath);

  /** Bytes used by the whole store (for the stored-bytes gauge), or -1 when the store cannot say. */
  long usedBytes();

  /** The paths of the objects under a folder of the store, relative to the root, in name order. */
  List<String> list(String relativePath) throws IOException;

  /**
   * Opens an object by absolute URI for streaming (dataset files, which have no reference): no hash check.
   * The URI must lie in this store (or, for S3, in a bucket its credentials can read).
   */
  InputStream open(String uri) throws IOException;

  /**
   * The reference with a time-limited HTTPS URL that needs no credentials ({@code presigned_url}), when the
   * store can make one and {@code FLEET_PRESIGN_SECONDS} > 0; else the reference unchanged.
   */
  default BlobRef presigned(BlobRef ref) {
    return ref;
  }

  @Override
  default void close() {}

  /** Lowercase hex sha256 of {@code bytes}: the hash every {@link BlobRef} carries. */
  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Deletes a local folder and everything in it, if it exists (scratch folders outside any store). */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
