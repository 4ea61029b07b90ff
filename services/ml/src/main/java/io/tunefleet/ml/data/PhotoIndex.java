package io.tunefleet.ml.data;

import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Builds the index of a photo dataset from an image folder (one sub-folder per class, or torchvision's
 * {@code train/} and {@code val/} each holding them) or a CSV manifest ({@code path,label[,split]}). Of each
 * file only the start (its header, {@value #HEAD} bytes) and the end ({@value #TAIL} bytes, the end marker a
 * cut-off copy lacks) are read, to check and fingerprint it; no pixel is decoded, so acceptance costs the same
 * for a phone photo as for a 20 MB scan. Files that cannot be used fail the request, naming the first {@value #NAMED} and the count, or, with
 * {@code dataset.skipUnreadable}, are left out and counted.
 */
public final class PhotoIndex {
  /** How many unreadable files a rejection names one by one. */
  static final int NAMED = 20;
  /** Bytes read from the start of each photo at acceptance: its header (and EXIF orientation) lies there. */
  static final int HEAD = 64 * 1024;
  /** Bytes read from the end: the format's end marker, which a cut-off copy lacks. */
  static final int TAIL = 1024;
  private static final String FIELD = "dataset.images";
  /** Heap bytes of one index entry besides its location's characters (record, boxed arrays, String headers). */
  static final int ENTRY_OVERHEAD_BYTES = 120;

  private final long budgetBytes;
  private long indexBytes;
  private int indexed;

  /** An indexed dataset: its samples, the user's own split when it has one, what was skipped, the fingerprint. */
  public record Indexed(PhotoSamples samples, StratifiedSplit presetSplit, int skipped, List<String> skippedFiles,
      String sha256) {}

  private final DatasetFiles files;
  private final int maxPerClass;
  private final boolean skipUnreadable;
  private final MessageDigest digest;
  private final List<String> unreadable = new ArrayList<>();
  private int unreadableCount;

  private PhotoIndex(DatasetFiles files, int maxPerClass, boolean skipUnreadable, long budgetBytes) {
    this.budgetBytes = budgetBytes;
    this.files = files;
    this.maxPerClass = maxPerClass;
    this.skipUnreadable = skipUnreadable;
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An image folder: class sub-folders, or {@code train/} and {@code val/} with the same class sub-folders. */
  public static Indexed imageFolder(DatasetFiles files, String root, int maxPerClass, boolean skipUnreadable)
      throws IOException {
    return imageFolder(files, root, maxPerClass, skipUnreadable, defaultBudget());
  }

  /** {@link #imageFolder(DatasetFiles, String, int, boolean)} with an index of at most {@code budgetBytes}. */
  static Indexed imageFolder(DatasetFiles files, String root, int maxPerClass, boolean skipUnreadable, long budgetBytes)
      throws IOException {
    PhotoIndex index = new PhotoIndex(files, maxPerClass, skipUnreadable, budgetBytes);
    List<FieldProblem> problems = new ArrayList<>();
    Map<String, String> top = byName(files, files.folders(root));
    if (top.containsKey("train") && top.containsKey("val")) {
      Map<String, String> train = byName(files, files.folders(top.get("train")));
      Map<String, String> val = byName(files, files.folders(top.get("val")));
      if (!train.keySet().equals(val.keySet())) {
        TreeSet<String> onlyTrain = new TreeSet<>(train.keySet());
        onlyTrain.removeAll(val.keySet());
        TreeSet<String> onlyVal = new TreeSet<>(val.keySet());
        onlyVal.removeAll(train.keySet());
        throw new InvalidSpecException(FIELD, "train/ and val/ must hold the same class folders: train/ has "
            + train.keySet() + ", val/ has " + val.keySet() + " (only in train/: " + onlyTrain + ", only in val/: " + onlyVal + ")");
      }
      List<String> classes = List.copyOf(train.keySet());
      checkClassCount(classes.size(), root + "/train", problems);
      List<PhotoSamples.Entry> entries = new ArrayList<>();
      index.addClasses(train, classes, entries, problems);
      int trainCount = entries.size();
      index.addClasses(val, classes, entries, problems);
      index.finish(problems);
      int[] t = java.util.stream.IntStream.range(0, trainCount).toArray();
      int[] v = java.util.stream.IntStream.range(trainCount, entries.size()).toArray();
      return index.result(entries, classes, new StratifiedSplit(t, v));
    }
    List<String> classes = List.copyOf(top.keySet());
    checkClassCount(classes.size(), root, problems);
    List<PhotoSamples.Entry> entries = new ArrayList<>();
    index.addClasses(top, classes, entries, problems);
    index.finish(problems);
    return index.result(entries, classes, null);
  }

  /**
   * A CSV manifest with a header naming {@code path} and {@code label} (and optionally {@code split}: train or
   * val). Paths are relative to the manifest's folder and must stay inside the allowed roots; labels are class
   * names (those of {@code classNames} when given, else every name in the file, sorted) or integers
   * 0..numClasses-1.
   */
  public static Indexed csv(DatasetFiles files, PathPolicy roots, String manifest, int numClasses, List<String> classNames,
      int maxPerClass, boolean skipUnreadable) throws IOException {
    PhotoIndex index = new PhotoIndex(files, maxPerClass, skipUnreadable, defaultBudget());
    byte[] text = files.read(manifest);
    index.digest.update(text);
    List<List<String>> rows = CsvRows.parse(new String(text, StandardCharsets.UTF_8));
    if (rows.isEmpty()) {
      throw new InvalidSpecException(FIELD, manifest + " is empty; it needs a header row with path and label");
    }
    List<String> header = rows.get(0).stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).toList();
    int pathCol = header.indexOf("path");
    int labelCol = header.indexOf("label");
    int splitCol = header.indexOf("split");
    if (pathCol < 0 || labelCol < 0) {
      String first = String.join(",", rows.get(0)).replaceAll("[^\\p{Print}]", "?");
      throw new InvalidSpecException(FIELD, manifest + ": the header row must name the columns path and label"
          + " (and optionally split), was '" + (first.length() > 80 ? first.substring(0, 80) + "…" : first) + "'");
    }
    List<FieldProblem> problems = new ArrayList<>();
    List<String[]> data = new ArrayList<>();
    for (int r = 1; r < rows.size(); r++) {
      List<String> row = rows.get(r);
      if (row.size() == 1 && row.get(0).isBlank()) {
        continue;
      }
      String where = manifest + " line " + (r + 1);
      if (row.size() <= Math.max(pathCol, Math.max(labelCol, splitCol))) {
        problems.add(new FieldProblem(FIELD, where + ": has " + row.size() + " columns, the header " + header.size()));
        continue;
      }
      String split = splitCol < 0 ? "train" : row.get(splitCol).trim().toLowerCase(Locale.ROOT);
      if (!split.equals("train") && !split.equals("val")) {
        problems.add(new FieldProblem(FIELD, where + ": split must be train or val, was '" + row.get(splitCol) + "'"));
        continue;
      }
      data.add(new String[] {row.get(pathCol).trim(), row.get(labelCol).trim(), split, where});
    }
    boolean integers = !data.isEmpty() && data.stream().allMatch(d -> d[1].matches("\\d{1,9}"));
    List<String> classes;
    if (!classNames.isEmpty()) {
      classes = List.copyOf(classNames);
    } else if (integers) {
      classes = java.util.stream.IntStream.range(0, numClasses).mapToObj(i -> "class " + i).toList();
    } else {
      classes = List.copyOf(new TreeSet<>(data.stream().map(d -> d[1]).toList()));
    }
    String folder = files.parent(manifest);
    List<PhotoSamples.Entry> train = new ArrayList<>();
    List<PhotoSamples.Entry> val = new ArrayList<>();
    int[] taken = new int[classes.size()];
    for (int i = 0; i < data.size(); i++) {
      String[] d = data.get(i);
      int label = integers && classNames.isEmpty() ? Integer.parseInt(d[1]) : classes.indexOf(d[1]);
      if (label < 0 || label >= classes.size()) {
        problems.add(new FieldProblem(FIELD, d[3] + ": unknown label '" + d[1] + "'; the classes are "
            + (integers && classNames.isEmpty() ? "0.." + (numClasses - 1) + " (num_classes)" : classes
            + (classNames.isEmpty() ? "" : " (dataset.classNames)"))));
        continue;
      }
      List<FieldProblem> where = new ArrayList<>();
      String p = roots.locate(FIELD, files.resolve(folder, d[0]), false, where);
      if (p == null) {
        problems.add(new FieldProblem(FIELD, d[3] + ": path '" + d[0] + "' " + where.get(0).problem()
            .replaceFirst("^'[^']*' ", "")));
        continue;
      }
      if (maxPerClass > 0 && taken[label] >= maxPerClass) {
        continue;
      }
      PhotoSamples.Entry e = index.entry(p, label, i);
      if (e != null) {
        (d[2].equals("val") ? val : train).add(e);
        taken[label]++;
      }
      if (problems.size() > 50) {
        break;
      }
    }
    index.finish(problems);
    List<PhotoSamples.Entry> entries = new ArrayList<>(train);
    entries.addAll(val);
    StratifiedSplit preset = null;
    if (splitCol >= 0) {
      if (train.isEmpty() || val.isEmpty()) {
        throw new InvalidSpecException(FIELD, manifest + ": the split column puts " + train.size() + " images in train and "
            + val.size() + " in val; each needs at least one (or leave the column out for a random split)");
      }
      preset = new StratifiedSplit(java.util.stream.IntStream.range(0, train.size()).toArray(),
          java.util.stream.IntStream.range(train.size(), entries.size()).toArray());
    }
    return index.result(entries, classes, preset);
  }

  private static Map<String, String> byName(DatasetFiles files, List<String> folders) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String f : folders) {
      String name = files.name(f);
      if (!name.startsWith(".")) {
        out.put(name, f);
      }
    }
    return out;
  }

  private static void checkClassCount(int count, String root, List<FieldProblem> problems) {
    if (count < 2) {
      problems.add(new FieldProblem(FIELD, root + " needs one sub-folder per class (at least 2), found " + count));
    }
  }

  private void addClasses(Map<String, String> folders, List<String> classes, List<PhotoSamples.Entry> entries,
      List<FieldProblem> problems) throws IOException {
    for (int c = 0; c < classes.size(); c++) {
      String dir = folders.get(classes.get(c));
      int taken = 0;
      for (String f : files.files(dir)) {
        if (maxPerClass > 0 && taken >= maxPerClass) {
          break;
        }
        if (!isPhotoName(files.name(f))) {
          continue; // like torchvision's ImageFolder: notes, .DS_Store and other files are not samples
        }
        PhotoSamples.Entry e = entry(f, c, entries.size());
        if (e != null) {
          entries.add(e);
          taken++;
        }
      }
      if (taken == 0) {
        problems.add(new FieldProblem(FIELD, "class folder " + dir + " has no images"));
      }
    }
  }

  static boolean isPhotoName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return !lower.startsWith(".") && (lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg"));
  }

  /**
   * The entry of one file from its first {@value #HEAD} bytes and last {@value #TAIL} (the whole file only when
   * its metadata reaches further), or null when it is unreadable (recorded).
   */
  private PhotoSamples.Entry entry(String location, int label, int sourceIndex) {
    // what one entry holds on the heap (its record, the location string, label and index arrays), and as much
    // again for the file listing it came from
    indexBytes += 2 * (ENTRY_OVERHEAD_BYTES + location.length());
    indexed++;
    if (indexBytes > budgetBytes) {
      throw new InvalidSpecException(FIELD, "too many files for this data-augmenter: the index of the first " + indexed
          + " alone needs about " + (indexBytes >> 20) + " MB, more than the " + (budgetBytes >> 20)
          + " MB (a quarter of its " + (Runtime.getRuntime().maxMemory() >> 20) + " MB heap) an index may take; give it more "
          + "memory (-Xmx, the container's limit) or split the dataset");
    }
    try {
      if (!files.isFile(location)) {
        throw new UnreadableImageException(location + " does not exist");
      }
      long size = files.size(location);
      byte[] head = files.read(location, 0, HEAD);
      byte[] tail = size <= head.length ? head : files.read(location, size - TAIL, TAIL);
      PhotoDecoder.Header h = PhotoDecoder.header(head, tail, size, location);
      if (h == null) {
        head = files.read(location);
        h = PhotoDecoder.header(head, location);
      }
      // the photo's identity without reading it whole: name, size, and the bytes around its header and end marker
      digest.update(location.getBytes(StandardCharsets.UTF_8));
      digest.update(java.nio.ByteBuffer.allocate(8).putLong(size).array());
      digest.update(head, 0, Math.min(head.length, HEAD));
      digest.update(tail);
      return new PhotoSamples.Entry(location, label, sourceIndex, h.height(), h.width());
    } catch (IOException e) {
      unreadableCount++;
      if (unreadable.size() < NAMED) {
        unreadable.add(e.getMessage());
      }
      return null;
    }
  }

  /** The most heap an index may take: a quarter of the JVM's, the rest for batches being decoded and written. */
  static long defaultBudget() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  private void finish(List<FieldProblem> problems) {
    if (unreadableCount > 0 && !skipUnreadable) {
      for (String u : unreadable) {
        problems.add(new FieldProblem(FIELD, u));
      }
      problems.add(new FieldProblem("dataset.skip_unreadable", unreadableCount + " file(s) cannot be used"
          + (unreadableCount > NAMED ? " (the first " + NAMED + " are named above)" : "")
          + "; remove them, or set dataset.skipUnreadable to true to train without them"));
    }
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
  }

  private Indexed result(List<PhotoSamples.Entry> entries, List<String> classes, StratifiedSplit preset) {
    return new Indexed(new PhotoSamples(files, entries, classes), preset, skipUnreadable ? unreadableCount : 0,
        List.copyOf(unreadable), HexFormat.of().formatHex(digest.digest()));
  }
}
