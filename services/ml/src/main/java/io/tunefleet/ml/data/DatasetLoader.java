package io.tunefleet.ml.data;

import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.DatasetSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Loads the dataset a (resolved) request names, and fingerprints its files for lineage. */
public final class DatasetLoader {
  private DatasetLoader() {}

  /** A loaded dataset and the sha256 over its files. */
  public record Loaded(LabeledImages images, String sha256) {}

  public static Loaded load(DatasetSpec spec, int numClasses, PathPolicy paths) throws IOException {
    List<FieldProblem> problems = new ArrayList<>();
    Path images = paths.resolve("dataset.images", spec.getImages(), true, problems);
    Path labels = spec.getFormat().equals("idx") ? paths.resolve("dataset.labels", spec.getLabels(), true, problems) : null;
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    LabeledImages data;
    List<Path> files = new ArrayList<>();
    if (spec.getFormat().equals("idx")) {
      data = IdxReader.read(images, labels, spec.getClassesList(), spec.getClassNamesList(), spec.getMaxPerClass());
      files.add(images);
      files.add(labels);
    } else {
      data = ImageFolderReader.read(images, spec.getMaxPerClass());
      try (Stream<Path> s = Files.walk(images)) {
        s.filter(Files::isRegularFile).sorted().forEach(files::add);
      }
    }
    if (data.numClasses() != numClasses) {
      throw new InvalidSpecException("num_classes",
          "is " + numClasses + " but the dataset has " + data.numClasses() + " classes " + data.classNames());
    }
    int[] counts = data.classCounts();
    for (int c = 0; c < counts.length; c++) {
      if (counts[c] < 2) {
        problems.add(new FieldProblem("dataset", "class " + c + " (" + data.classNames().get(c) + ") has " + counts[c]
            + " images; every class needs at least 2 (one for training, one for validation)"));
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    return new Loaded(data, fingerprint(files));
  }

  private static String fingerprint(List<Path> files) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (Path f : files) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
          while (in.read(buf) >= 0) {
            // digesting
          }
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
