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

/**
 * Opens the dataset a (resolved) request names: an IDX file pair is read into memory; a photo dataset (image
 * folder or CSV manifest) becomes an index whose images are decoded per batch. Fingerprints the files for lineage.
 */
public final class DatasetLoader {
  private DatasetLoader() {}

  /**
   * An opened dataset: its samples, the user's own train/val split when it has one (else null), the sha256 over
   * its files, the unreadable files skipped (count and the first names), and the side of the square every image
   * has (0 when sizes differ or are not square).
   */
  public record Loaded(Samples samples, StratifiedSplit presetSplit, String sha256, int skipped, List<String> skippedFiles,
      int squareSize) {
    /** The images in memory; only IDX datasets are held whole. */
    public LabeledImages images() {
      if (samples instanceof LabeledImages l) {
        return l;
      }
      throw new IllegalStateException("a photo dataset is decoded per batch; use samples()");
    }
  }

  /** A dataset in local folders only. */
  public static Loaded load(DatasetSpec spec, int numClasses, PathPolicy paths) throws IOException {
    return load(spec, numClasses, paths, null);
  }

  /**
   * A dataset in local folders or, for an {@code s3://} image folder or manifest, in {@code objectStore} (null when
   * the fleet has no object-storage data roots).
   */
  public static Loaded load(DatasetSpec spec, int numClasses, PathPolicy paths, DatasetFiles objectStore) throws IOException {
    List<FieldProblem> problems = new ArrayList<>();
    boolean idx = spec.getFormat().equals("idx");
    Path images = idx ? paths.resolve("dataset.images", spec.getImages(), true, problems) : null;
    Path labels = idx ? paths.resolve("dataset.labels", spec.getLabels(), true, problems) : null;
    String photos = idx ? null : paths.locate("dataset.images", spec.getImages(), true, problems);
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    Loaded loaded;
    if (idx) {
      LabeledImages data = IdxReader.read(images, labels, spec.getClassesList(), spec.getClassNamesList(), spec.getMaxPerClass());
      int side = data.height() == data.width() ? data.height() : 0;
      loaded = new Loaded(data, null, fingerprint(List.of(images, labels)), 0, List.of(), side);
    } else {
      DatasetFiles files = photoFiles(photos, paths, objectStore);
      PhotoIndex.Indexed indexed;
      if (spec.getFormat().equals("csv")) {
        if (!files.isFile(photos)) {
          throw new InvalidSpecException("dataset.images", "the manifest " + photos + " does not exist");
        }
        indexed = PhotoIndex.csv(files, paths, photos, numClasses, spec.getClassNamesList(), spec.getMaxPerClass(),
            spec.getSkipUnreadable());
      } else {
        if (!files.isFolder(photos)) {
          throw new InvalidSpecException("dataset.images", PathPolicy.isObjectUri(photos)
              ? "no objects under the prefix " + photos + "/ (a missing prefix, or a misspelt one)" : photos + " is not a folder");
        }
        indexed = PhotoIndex.imageFolder(files, photos, spec.getMaxPerClass(), spec.getSkipUnreadable());
      }
      loaded = new Loaded(indexed.samples(), indexed.presetSplit(), indexed.sha256(), indexed.skipped(),
          indexed.skippedFiles(), indexed.samples().squareSize());
    }
    Samples data = loaded.samples();
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
    return loaded;
  }

  private static DatasetFiles photoFiles(String location, PathPolicy paths, DatasetFiles objectStore) {
    if (!PathPolicy.isObjectUri(location)) {
      return new LocalDatasetFiles(paths);
    }
    if (objectStore == null) {
      throw new InvalidSpecException("dataset.images", location + ": this service reads no object storage"
          + " (no s3:// prefix among FLEET_DATA_ROOTS)");
    }
    return objectStore;
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
