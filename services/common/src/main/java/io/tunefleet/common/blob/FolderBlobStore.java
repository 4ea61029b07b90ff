package io.tunefleet.common.blob;

import io.micrometer.core.instrument.MeterRegistry;
import io.tunefleet.proto.v1.BlobRef;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The blob store in one folder (local, or a volume every service mounts), addressed by {@code file://} URI.
 * A write goes to a temporary file that is then renamed over the target, so a reader sees the old file or
 * the whole new one, never a part; temporary files are hidden ({@code .name.UUID.tmp}).
 */
public final class FolderBlobStore implements BlobStore {
  private final Path root;
  private final BlobMetrics metrics;

  public FolderBlobStore(Path root) throws IOException {
    this(root, null);
  }

  public FolderBlobStore(Path root, MeterRegistry registry) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    Files.createDirectories(this.root);
    this.metrics = new BlobMetrics(registry, "folder");
  }

  /** The folder of the store. */
  public Path root() {
    return root;
  }

  @Override
  public String rootUri() {
    return root.toUri().toString();
  }

  @Override
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
    metrics.written(bytes.length);
    return ref(target, bytes);
  }

  @Override
  public byte[] get(BlobRef ref) throws IOException {
    Path file = pathOf(ref.getUri());
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CorruptBlobException(ref.getUri(), "missing");
    }
    metrics.read(bytes.length);
    return BlobRefs.verified(ref, bytes);
  }

  @Override
  public boolean exists(String relativePath) {
    return Files.isRegularFile(resolve(relativePath));
  }

  @Override
  public BlobRef refOf(String relativePath) throws IOException {
    Path file = resolve(relativePath);
    byte[] bytes = Files.readAllBytes(file);
    metrics.read(bytes.length);
    return ref(file, bytes);
  }

  @Override
  public byte[] read(String relativePath) throws IOException {
    byte[] bytes = Files.readAllBytes(resolve(relativePath));
    metrics.read(bytes.length);
    return bytes;
  }

  @Override
  public void deleteTree(String relativePath) throws IOException {
    BlobStore.deleteTree(resolve(relativePath));
  }

  @Override
  public void delete(BlobRef ref) throws IOException {
    Files.deleteIfExists(pathOf(ref.getUri()));
  }

  @Override
  public void delete(String relativePath) throws IOException {
    Files.deleteIfExists(resolve(relativePath));
  }

  @Override
  public long usedBytes(String relativePath) {
    return bytesUnder(resolve(relativePath));
  }

  @Override
  public long usedBytes() {
    return bytesUnder(root);
  }

  private static long bytesUnder(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1; // a file vanished while walking (batches are deleted concurrently): try again next scrape
    }
  }

  @Override
  public List<String> list(String relativePath) throws IOException {
    Path dir = resolve(relativePath);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".tmp"))
          .map(p -> root.relativize(p).toString().replace('\\', '/')).sorted().toList();
    }
  }

  @Override
  public InputStream open(String uri) throws IOException {
    InputStream in = Files.newInputStream(pathOf(uri));
    return new CountingInputStream(in, metrics::read);
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

  private static BlobRef ref(Path file, byte[] bytes) {
    return BlobRef.newBuilder().setUri(file.toUri().toString()).setSha256(BlobStore.sha256(bytes))
        .setSizeBytes(bytes.length).build();
  }
}
