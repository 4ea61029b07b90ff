package io.tunefleet.ml.recipe;

import io.tunefleet.ml.validation.FieldProblem;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a request may read datasets and base models from: plain paths or {@code file:} URIs that
 * resolve (symbolic links followed, {@code ..} removed) inside one of the configured roots.
 */
public record PathPolicy(List<Path> roots) {
  public PathPolicy {
    roots = roots.stream().map(r -> r.toAbsolutePath().normalize()).toList();
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
          problems.add(new FieldProblem(field, "scheme '" + uri.getScheme() + "' is not allowed; use a path or a file: URI"));
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
