package io.tunefleet.ml.data;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads an image folder: one sub-folder per class (sorted by name), PNG or JPEG files inside. Every
 * image must have the size of the first; a file that is not a readable image is an error naming it.
 */
public final class ImageFolderReader {
  private ImageFolderReader() {}

  public static LabeledImages read(Path root, int maxPerClass) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new InvalidSpecException("dataset.images", root + " is not a folder");
    }
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).sorted().toList();
    }
    List<FieldProblem> problems = new ArrayList<>();
    Path realRoot = root.toRealPath();
    if (classDirs.size() < 2) {
      problems.add(new FieldProblem("dataset.images", root + " needs one sub-folder per class (at least 2), found " + classDirs.size()));
    }
    List<ImageU8> images = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    List<String> names = new ArrayList<>();
    int h = -1;
    int w = -1;
    int index = 0;
    for (int c = 0; c < classDirs.size(); c++) {
      Path dir = classDirs.get(c);
      names.add(dir.getFileName().toString());
      List<Path> files;
      try (Stream<Path> s = Files.list(dir)) {
        files = s.filter(Files::isRegularFile).sorted().toList();
      }
      int taken = 0;
      for (Path f : files) {
        if (maxPerClass > 0 && taken >= maxPerClass) {
          break;
        }
        Path real = f.toRealPath();
        if (!real.startsWith(realRoot)) {
          // a symbolic link must not reach past the folder the allowed-roots check approved
          problems.add(new FieldProblem("dataset.images", f + " links to " + real
              + ", outside the allowed roots (the dataset folder " + root + ")"));
          continue;
        }
        String lower = f.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!(lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg"))) {
          problems.add(new FieldProblem("dataset.images", f + " is not a PNG or JPEG file"));
          continue;
        }
        BufferedImage img;
        try {
          img = ImageIO.read(f.toFile());
        } catch (IOException e) {
          img = null;
        }
        if (img == null) {
          problems.add(new FieldProblem("dataset.images", f + " is not a readable image"));
          continue;
        }
        if (h < 0) {
          h = img.getHeight();
          w = img.getWidth();
        } else if (img.getHeight() != h || img.getWidth() != w) {
          problems.add(new FieldProblem("dataset.images", f + " is " + img.getHeight() + "x" + img.getWidth()
              + " but the dataset's images are " + h + "x" + w));
          continue;
        }
        images.add(Images.fromBufferedImage(img));
        labels.add(c);
        taken++;
        index++;
      }
      if (taken == 0) {
        problems.add(new FieldProblem("dataset.images", "class folder " + dir + " has no images"));
      }
      if (problems.size() > 50) {
        break;
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    int[] idx = new int[index];
    for (int i = 0; i < index; i++) {
      idx[i] = i;
    }
    return new LabeledImages(images, labels.stream().mapToInt(Integer::intValue).toArray(), idx, names);
  }
}
