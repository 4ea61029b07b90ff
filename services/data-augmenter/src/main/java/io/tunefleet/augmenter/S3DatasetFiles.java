package io.tunefleet.augmenter;

import io.tunefleet.common.blob.S3BlobStore;
import io.tunefleet.common.blob.S3Location;
import io.tunefleet.common.blob.S3Settings;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.data.DatasetFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Photo datasets in object storage: an {@code s3://} image folder (one prefix per class, or {@code train/} and
 * {@code val/} holding them) or CSV manifest, read through the S3 client of the blob store (or, when the blob store
 * is a folder, one with the same FLEET_S3_ENDPOINT, FLEET_S3_REGION and credentials). Locations are
 * {@code s3://BUCKET/KEY} URIs; a folder is a key prefix, so a "folder" exists once an object lies under it. Only
 * objects under the s3:// prefixes of FLEET_DATA_ROOTS are opened.
 */
final class S3DatasetFiles implements DatasetFiles, AutoCloseable {
  private static final String S3 = "s3://";
  /** Sizes the listings brought: indexing a listed folder then needs no HEAD request per photo. Bounded. */
  private static final int MAX_LISTED = 1_000_000;

  private final S3BlobStore s3;
  /** Whether {@link #s3} was opened here (the blob store is a folder), and so is closed here. */
  private final boolean ownsClient;
  private final List<S3Location> roots;
  private final Map<String, Long> listedSizes = new ConcurrentHashMap<>();

  private S3DatasetFiles(S3BlobStore s3, boolean ownsClient, List<S3Location> roots) {
    this.s3 = s3;
    this.ownsClient = ownsClient;
    this.roots = roots;
  }

  /**
   * The dataset files of the s3:// prefixes of FLEET_DATA_ROOTS, or null when there are none. Each prefix's bucket
   * is checked now, so a misspelt bucket or missing permission stops the service at start, naming FLEET_DATA_ROOTS.
   */
  static S3DatasetFiles open(ServiceContext ctx) throws IOException {
    FleetConfig config = ctx.config();
    List<S3Location> roots = config.objectDataRoots();
    if (roots.isEmpty()) {
      return null;
    }
    S3BlobStore s3 = ctx.blobs() instanceof S3BlobStore store ? store
        : S3BlobStore.open(S3Settings.ofDataRoot(config, roots.get(0)), ctx.registry());
    try {
      for (S3Location root : roots) {
        s3.checkBucket(root, FleetConfig.DATA_ROOTS.key());
      }
    } catch (IOException e) {
      if (s3 != ctx.blobs()) {
        s3.close();
      }
      throw e;
    }
    return new S3DatasetFiles(s3, s3 != ctx.blobs(), roots);
  }

  @Override
  public void close() {
    if (ownsClient) {
      s3.close();
    }
  }

  @Override
  public List<String> folders(String folder) throws IOException {
    S3Location prefix = allowedFolder(folder);
    TreeSet<String> names = new TreeSet<>();
    for (S3Object o : list(prefix)) {
      String rest = o.key().substring(prefix.key().length());
      int slash = rest.indexOf('/');
      if (slash > 0) {
        names.add(rest.substring(0, slash));
      }
    }
    return names.stream().map(n -> new S3Location(prefix.bucket(), prefix.key() + n).uri()).toList();
  }

  @Override
  public List<String> files(String folder) throws IOException {
    S3Location prefix = allowedFolder(folder);
    return list(prefix).stream().filter(o -> !o.key().endsWith("/")).map(o -> uri(prefix.bucket(), o.key())).sorted().toList();
  }

  private List<S3Object> list(S3Location prefix) throws IOException {
    List<S3Object> objects = s3.listObjects(prefix);
    if (listedSizes.size() + objects.size() > MAX_LISTED) {
      listedSizes.clear();
    }
    for (S3Object o : objects) {
      listedSizes.put(uri(prefix.bucket(), o.key()), o.size());
    }
    return objects;
  }

  /** A manifest's relative path is a key below the manifest's prefix; PathPolicy then applies '..' and the roots. */
  @Override
  public String resolve(String folder, String relative) {
    return relative.startsWith(S3) ? relative : folder + "/" + relative;
  }

  @Override
  public String name(String location) {
    String trimmed = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  @Override
  public String parent(String location) {
    S3Location o = object(location);
    int slash = o.key().lastIndexOf('/');
    return uri(o.bucket(), slash < 0 ? "" : o.key().substring(0, slash));
  }

  @Override
  public boolean isFile(String location) throws IOException {
    if (listedSizes.containsKey(location)) {
      return true;
    }
    try {
      s3.size(allowed(location));
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  @Override
  public boolean isFolder(String location) throws IOException {
    return !list(allowedFolder(location)).isEmpty();
  }

  @Override
  public InputStream open(String location) throws IOException {
    return s3.open(allowed(location));
  }

  @Override
  public long size(String location) throws IOException {
    Long listed = listedSizes.get(location);
    return listed != null ? listed : s3.size(allowed(location));
  }

  @Override
  public byte[] read(String location, long offset, int length) throws IOException {
    return s3.read(allowed(location), offset, length);
  }

  /** The object of a location that lies under one of the data roots; any other is refused, as a local file would be. */
  private S3Location allowed(String location) throws IOException {
    S3Location o = object(location);
    if (roots.stream().noneMatch(r -> r.contains(o))) {
      throw new IOException(location + " lies outside the allowed roots " + roots);
    }
    return o;
  }

  /** The prefix of a folder location that is, or lies under, one of the data roots. */
  private S3Location allowedFolder(String location) throws IOException {
    S3Location prefix = object(location).asFolder();
    if (roots.stream().noneMatch(r -> r.contains(prefix))) {
      throw new IOException(location + " lies outside the allowed roots " + roots);
    }
    return prefix;
  }

  /** The bucket and key of {@code s3://BUCKET/KEY}, taken as written: keys may hold spaces and other characters. */
  private static S3Location object(String location) {
    if (!location.startsWith(S3)) {
      throw new IllegalArgumentException(location + " is not an s3:// location");
    }
    String rest = location.substring(S3.length());
    int slash = rest.indexOf('/');
    return slash < 0 ? new S3Location(rest, "") : new S3Location(rest.substring(0, slash), rest.substring(slash + 1));
  }

  private static String uri(String bucket, String key) {
    return S3 + bucket + "/" + key;
  }
}
