package io.tunefleet.ml.recipe;

import io.tunefleet.ml.validation.FieldProblem;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a request may read datasets and base models from: plain paths or {@code file:} URIs that
 * resolve (symbolic links followed, {@code ..} removed) inside one of the configured folders, and, for
 * datasets, {@code s3://BUCKET/KEY} URIs that lie under one of the configured object-storage prefixes
 * ({@code objectRoots}, each {@code s3://BUCKET/PREFIX/}).
 */
public record PathPolicy(List<Path> roots, List<String> objectRoots) {
  private static final String S3 = "s3://";
  // the bucket name rules of S3 (the blob store's S3Location applies the same; ml stays free of fleet-common)
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  public PathPolicy {
    roots = roots.stream().map(r -> r.toAbsolutePath().normalize()).toList();
    objectRoots = objectRoots.stream().map(r -> {
      String normal = normalObjectUri(r);
      if (normal == null) {
        throw new IllegalArgumentException("'" + r + "' is not an s3://BUCKET/PREFIX URI");
      }
      return normal.endsWith("/") ? normal : normal + "/";
    }).toList();
  }

  /** Local folders only. */
  public PathPolicy(List<Path> roots) {
    this(roots, List.of());
  }

  /** Whether {@code value} names an object or prefix in object storage ({@code s3://}) rather than a local file. */
  public static boolean isObjectUri(String value) {
    return value != null && value.regionMatches(true, 0, "s3:", 0, 3);
  }

  /**
   * The location of a dataset file or folder: the local path (see {@link #resolve}), or the {@code s3://} URI with
   * its '.' segments removed and '..' applied, when it lies under one of the object roots. Whether objects exist
   * there is known only once they are listed ({@code DatasetLoader}); {@code mustExist} applies to local paths.
   * Null after adding a problem for {@code field}.
   */
  public String locate(String field, String value, boolean mustExist, List<FieldProblem> problems) {
    if (!isObjectUri(value)) {
      Path p = resolve(field, value, mustExist, problems);
      return p == null ? null : p.toString();
    }
    String uri = normalObjectUri(value);
    if (uri == null) {
      problems.add(new FieldProblem(field, "'" + value + "' is not a valid s3://BUCKET/KEY URI: " + objectUriProblem(value)));
      return null;
    }
    if (objectRoots.stream().noneMatch(r -> (uri + "/").startsWith(r))) {
      problems.add(new FieldProblem(field, "'" + value + "' lies outside the allowed roots "
          + (objectRoots.isEmpty() ? "(no s3:// prefix is among FLEET_DATA_ROOTS) " : objectRoots + " ") + roots));
      return null;
    }
    return uri;
  }

  /**
   * {@code s3://bucket/key} with empty and '.' segments dropped and '..' applied, or null when it is no valid S3
   * URI (wrong scheme spelling, bad bucket name, '..' above the bucket).
   */
  static String normalObjectUri(String value) {
    return objectUriProblem(value) == null ? normalise(value) : null;
  }

  private static String objectUriProblem(String value) {
    if (!value.startsWith(S3)) {
      return "it must start with s3:// (lowercase)";
    }
    String rest = value.substring(S3.length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
      return "bucket '" + bucket + "' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)";
    }
    // any other key is fine: S3 keys are UTF-8 and photos are often named with spaces
    return normalise(value) == null ? "its '..' segments climb above the bucket" : null;
  }

  private static String normalise(String value) {
    String rest = value.substring(S3.length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    Deque<String> key = new ArrayDeque<>();
    for (String segment : (slash < 0 ? "" : rest.substring(slash + 1)).split("/")) {
      if (segment.equals("..")) {
        if (key.isEmpty()) {
          return null;
        }
        key.removeLast();
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        key.addLast(segment);
      }
    }
    return S3 + bucket + "/" + String.join("/", key);
  }

  /**
   * The local path of {@code value}, or null after adding a problem for {@code field} when it is empty,
   * uses another scheme, lies outside the roots or does not exist.
   */
  public Path resolve(String field, String value, boolean mustExist, List<FieldProblem> problems) {
    if (value == null || value.isBlank()) {
      problems.add(new FieldProblem(field, "is required"));
      return null;
    }
    Path p;
    try {
      if (value.contains("://") || value.startsWith("file:")) {
        URI uri = URI.create(value);
        if (!"file".equals(uri.getScheme())) {
          problems.add(new FieldProblem(field, "scheme '" + uri.getScheme() + "' is not allowed"
              + ("s3".equals(String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT))
                  ? " here (s3:// holds image folders and CSV manifests only); use a path or a file: URI"
                  : "; use a path or a file: URI")));
          return null;
        }
        p = Path.of(uri);
      } else {
        p = Path.of(value);
      }
    } catch (IllegalArgumentException e) {
      problems.add(new FieldProblem(field, "'" + value + "' is not a valid path or URI"));
      return null;
    }
    p = p.toAbsolutePath().normalize();
    if (Files.exists(p)) {
      try {
        p = p.toRealPath();
      } catch (IOException e) {
        problems.add(new FieldProblem(field, "cannot resolve " + value + ": " + e.getMessage()));
        return null;
      }
    }
    Path inside = p;
    if (roots.stream().noneMatch(r -> inside.startsWith(realOrSelf(r)))) {
      problems.add(new FieldProblem(field, "'" + value + "' lies outside the allowed roots " + roots));
      return null;
    }
    if (mustExist && !Files.exists(p)) {
      problems.add(new FieldProblem(field, "'" + value + "' does not exist"));
      return null;
    }
    return p;
  }

  private static Path realOrSelf(Path root) {
    try {
      return Files.exists(root) ? root.toRealPath() : root;
    } catch (IOException e) {
      return root;
    }
  }
}
