package io.tunefleet.examples;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.proto.v1.TrainingRequest;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The image size a finished model takes: the size of its training data, at which the fleet also
 * evaluated it. Model files do not record it, so it is read from the dataset the accepted request names
 * (or given with {@code --input-size}).
 */
public record ModelInputSize(int height, int width) {
  public ModelInputSize {
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("an input size must be positive, was " + height + "x" + width);
    }
  }

  /** {@code 28x28}, or {@code 28} for a square. */
  public static ModelInputSize parse(String s) {
    String[] hw = s.toLowerCase(Locale.ROOT).split("x");
    try {
      return hw.length == 1 ? new ModelInputSize(Integer.parseInt(hw[0]), Integer.parseInt(hw[0]))
          : new ModelInputSize(Integer.parseInt(hw[0]), Integer.parseInt(hw[1]));
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("--input-size must look like 28x28, was '" + s + "'");
    }
  }

  /** The size of the images of the dataset {@code accepted} trained on: its IDX header, or an image-folder's first image. */
  public static ModelInputSize ofTrainingData(TrainingRequest accepted) throws IOException {
    String images = accepted.getDataset().getImages();
    Path path = images.startsWith("file:") ? Path.of(URI.create(images)) : Path.of(images);
    if (!Files.exists(path)) {
      throw new IOException("cannot tell the model's input size: its training data " + images
          + " is not readable from here; pass --input-size HxW");
    }
    if (accepted.getDataset().getFormat().equals("idx")) {
      int[] hw = InputImages.idxImageSize(path);
      return new ModelInputSize(hw[0], hw[1]);
    }
    BufferedImage first = ImageIO.read(firstImageOfFolder(path).toFile());
    return new ModelInputSize(first.getHeight(), first.getWidth());
  }

  /** Throws unless {@code image} has this size: the fleet's models are used at the size they were trained at. */
  public void check(ImageU8 image) {
    if (image.height() != height || image.width() != width) {
      throw new IllegalArgumentException("the image is " + image.height() + "x" + image.width() + " but the model takes "
          + height + "x" + width + " images (the size of its training data); this example does not resize: "
          + "give it a " + height + "x" + width + " image");
    }
  }

  @Override
  public String toString() {
    return height + "x" + width;
  }

  // image_folder datasets: class sub-folders in name order, PNG/JPEG files in name order, all of one size
  private static Path firstImageOfFolder(Path root) throws IOException {
    try (Stream<Path> classes = Files.list(root)) {
      for (Path dir : classes.filter(Files::isDirectory).sorted().toList()) {
        try (Stream<Path> files = Files.list(dir)) {
          Optional<Path> image = files.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g)"))
              .sorted().findFirst();
          if (image.isPresent()) {
            return image.get();
          }
        }
      }
    }
    throw new IOException("cannot tell the model's input size: no image in " + root + "; pass --input-size HxW");
  }
}
