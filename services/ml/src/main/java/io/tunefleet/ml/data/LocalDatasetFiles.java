package io.tunefleet.ml.data;

import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.validation.FieldProblem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Dataset files in local folders (a mounted volume, the blob root): locations are absolute paths. Every file
 * is opened only after its real path (symbolic links followed) is checked against the allowed roots, so a
 * link inside an approved folder cannot reach past them.
 */
public final class LocalDatasetFiles implements DatasetFiles {
  private final PathPolicy roots;

  public LocalDatasetFiles(PathPolicy roots) {
    this.roots = roots;
  }

  @Override
  public List<String> folders(String folder) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(folder))) {
      return s.filter(Files::isDirectory).sorted().map(Path::toString).toList();
    }
  }

  @Override
  public List<String> files(String folder) throws IOException {
    // torchvision's ImageFolder follows links (os.walk(followlinks=True)); open() then checks where they lead
    try (Stream<Path> s = Files.walk(Path.of(folder), FileVisitOption.FOLLOW_LINKS)) {
      return s.filter(Files::isRegularFile).sorted().map(Path::toString).toList();
    }
  }

  @Override
  public String resolve(String folder, String relative) {
    return Path.of(folder).resolve(relative).normalize().toString();
  }

  @Override
  public String name(String location) {
    Path name = Path.of(location).getFileName();
    return name == null ? location : name.toString();
  }

  @Override
  public String parent(String location) {
    Path parent = Path.of(location).getParent();
    return parent == null ? "." : parent.toString();
  }

  @Override
  public boolean isFile(String location) {
    return Files.isRegularFile(Path.of(location));
  }

  @Override
  public boolean isFolder(String location) {
    return Files.isDirectory(Path.of(location));
  }

  @Override
  public long size(String location) throws IOException {
    return Files.size(allowed(location));
  }

  @Override
  public byte[] read(String location, long offset, int length) throws IOException {
    try (FileChannel ch = FileChannel.open(allowed(location))) {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.max(0, Math.min(length, ch.size() - offset)));
      while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) >= 0) {
        // reading the range
      }
      return buf.array();
    }
  }

  @Override
  public InputStream open(String location) throws IOException {
    return Files.newInputStream(allowed(location));
  }

  /** The real path of {@code location} once it is checked to lie inside the allowed roots. */
  private Path allowed(String location) throws IOException {
    List<FieldProblem> problems = new ArrayList<>();
    Path p = roots.resolve("dataset", location, true, problems);
    if (p == null) {
      Path real = Files.exists(Path.of(location)) ? Path.of(location).toRealPath() : Path.of(location);
      throw new IOException(location + (real.toString().equals(location) ? "" : " links to " + real) + ": "
          + problems.get(0).problem());
    }
    return p;
  }
}
