package io.tunefleet.common.blob;

import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The claim-check store: files under one root folder (local or a shared volume), addressed by
 * {@code file://} URI, written atomically (temp file + rename) and verified against their sha256 on
 * every read. Tensors, datasets and models travel through here, never through Kafka.
 */
public final class BlobStore {
  private final Path root;

  public BlobStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Files.createDirectories(this.root);
  }

  public Path root() {
    return root;
  }

  /** Writes {@code bytes} at {@code relativePath} (replacing any older file) and returns its reference. */
  public BlobRef put(String relativePath, byte[] bytes) throws IOException {
    Path target = resolve(relativePath);
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    Files.write(tmp, bytes);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return BlobRef.newBuilder().setUri(target.toUri().toString()).setSha256(sha256(bytes)).setSizeBytes(bytes.length).build();
  }

  /** Reads a blob and checks its size and hash; a mismatch is a {@link CorruptBlobException}, never data. */
  public byte[] get(BlobRef ref) throws IOException {
    Path file = pathOf(ref.getUri());
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CorruptBlobException(ref.getUri(), "missing");
    }
    if (bytes.length != ref.getSizeBytes()) {
      throw new CorruptBlobException(ref.getUri(), "size " + bytes.length + " bytes, expected " + ref.getSizeBytes());
    }
    String actual = sha256(bytes);
    if (!actual.equals(ref.getSha256())) {
      throw new CorruptBlobException(ref.getUri(), "sha256 " + actual + ", expected " + ref.getSha256());
    }
    return bytes;
  }

  public boolean exists(String relativePath) {
    return Files.isRegularFile(resolve(relativePath));
  }

  /** The reference of a file already in the store (hash computed now), e.g. to republish it. */
  public BlobRef refOf(String relativePath) throws IOException {
    Path file = resolve(relativePath);
    byte[] bytes = Files.readAllBytes(file);
    return BlobRef.newBuilder().setUri(file.toUri().toString()).setSha256(sha256(bytes)).setSizeBytes(bytes.length).build();
  }

  /** Reads a small file written with {@link #put} at a known path, without a reference (pointers, markers). */
  public byte[] read(String relativePath) throws IOException {
    return Files.readAllBytes(resolve(relativePath));
  }

  /** Deletes a folder of the store and everything in it (consumed batches). */
  public void deleteTree(String relativePath) throws IOException {
    deleteTree(resolve(relativePath));
  }

  /** Deletes {@code dir} and everything in it, if it exists (also for folders outside a store). */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Bytes used by the store (for the disk-usage gauge). */
  public long usedBytes() {
    try (var files = Files.walk(root)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return -1;
    }
  }

  public void delete(BlobRef ref) throws IOException {
    Files.deleteIfExists(pathOf(ref.getUri()));
  }

  /** The local path of a blob URI; only {@code file:} URIs inside this store's root are accepted. */
  public Path pathOf(String uri) {
    URI u = URI.create(uri);
    if (!"file".equals(u.getScheme())) {
      throw new IllegalArgumentException("blob URI must use the file: scheme, was " + uri);
    }
    Path p = Path.of(u).toAbsolutePath().normalize();
    if (!p.startsWith(root)) {
      throw new IllegalArgumentException("blob URI " + uri + " lies outside the blob store " + root);
    }
    return p;
  }

  private Path resolve(String relativePath) {
    Path p = root.resolve(relativePath).normalize();
    if (!p.startsWith(root) || p.equals(root)) {
      throw new IllegalArgumentException("blob path " + relativePath + " escapes the blob store");
    }
    return p;
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
