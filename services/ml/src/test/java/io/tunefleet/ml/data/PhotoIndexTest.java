package io.tunefleet.ml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.augment.InputPipeline;
import io.tunefleet.ml.bench.SyntheticPhotos;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Photo datasets as a team brings them: folders, train/val folders and CSV manifests, with the files that spoil them. */
class PhotoIndexTest {
  @TempDir Path root;

  private PathPolicy paths() {
    return new PathPolicy(List.of(root));
  }

  private DatasetLoader.Loaded load(String format, Path images, int numClasses, boolean skip) throws Exception {
    return DatasetLoader.load(DatasetSpec.newBuilder().setFormat(format).setImages(images.toString()).setSkipUnreadable(skip)
        .build(), numClasses, paths());
  }

  @Test
  void aFolderOfMixedSizesAndFormatsIsIndexedFromHeadersAndDecodedPerImage() throws Exception {
    Path folder = root.resolve("photos");
    List<Path> files = SyntheticPhotos.writeFolder(folder, List.of("ants", "bees", "wasps"), 8, 100, 400, 1);
    Files.writeString(folder.resolve("bees/notes.txt"), "not a sample: ignored, as torchvision's ImageFolder does");
    DatasetLoader.Loaded loaded = load("image_folder", folder, 3, false);
    PhotoSamples samples = (PhotoSamples) loaded.samples();
    assertEquals(24, samples.size());
    assertEquals(List.of("ants", "bees", "wasps"), samples.classNames());
    assertEquals(0, loaded.squareSize(), "sizes differ");
    assertEquals(null, loaded.presetSplit());
    for (int i = 0; i < samples.size(); i++) {
      PhotoSamples.Entry e = samples.entries().get(i);
      ImageU8 img = samples.image(i);
      assertEquals(e.height() + "x" + e.width(), img.height() + "x" + img.width(), e.location() + ": header size = decoded size");
      assertTrue(e.height() >= 100 && e.height() <= 400 && e.width() >= 100 && e.width() <= 400);
    }
    // the EXIF-rotated JPEG (orientation 6) is shown upright: its stored width is its height
    int rotated = files.indexOf(files.stream().filter(f -> f.toString().contains("exif_rotated")).findFirst().orElseThrow());
    var stored = javax.imageio.ImageIO.read(files.get(rotated).toFile());
    PhotoSamples.Entry e = samples.entries().stream().filter(x -> x.location().equals(files.get(rotated).toString())).findFirst()
        .orElseThrow();
    assertEquals(stored.getWidth() + "x" + stored.getHeight(), e.height() + "x" + e.width());
    // every photo reaches the input size through the evaluation pipeline
    InputPipeline p = new InputPipeline(64, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, false);
    java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor();
    ImageBatch val = EpochBatches.unaugmented(samples, new int[] {0, 5, 20}, p, one).join();
    one.shutdown();
    assertEquals(64, val.height());
    assertEquals(64, val.width());
    ImageU8 crop = p.training((img, rng) -> img).apply(samples.image(3), new SplittableRandom(5));
    assertEquals(64, crop.height());
  }

  @Test
  void aDatasetWhoseIndexWouldNotFitIsRefusedNamingTheBound() throws Exception {
    Path folder = root.resolve("many");
    List<Path> files = SyntheticPhotos.writeFolder(folder, List.of("a", "b"), 10, 40, 60, 2);
    long perEntry = 2L * (PhotoIndex.ENTRY_OVERHEAD_BYTES + files.get(0).toString().length());
    // room for about 5 entries of 20: refused while indexing, before the rest is read
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> PhotoIndex.imageFolder(new LocalDatasetFiles(paths()), folder.toString(), 0, false, 5 * perEntry));
    String problem = e.problems().get(0).toString();
    assertTrue(problem.startsWith("dataset.images: too many files for this data-augmenter"), problem);
    assertTrue(problem.contains("give it more memory"), problem);
    // with the default bound (a quarter of the heap) the same folder is indexed
    assertEquals(20, PhotoIndex.imageFolder(new LocalDatasetFiles(paths()), folder.toString(), 0, false).samples().size());
  }

  @Test
  void aDatasetOfImagesAlreadyAtTheInputSizePassesThroughUnchanged() throws Exception {
    Path folder = root.resolve("square");
    SplittableRandom rng = new SplittableRandom(3);
    for (String c : List.of("a", "b")) {
      Files.createDirectories(folder.resolve(c));
      for (int i = 0; i < 3; i++) {
        Files.write(folder.resolve(c + "/" + i + ".png"), SyntheticPhotos.photo(SyntheticPhotos.Kind.RGB_PNG, 28, 28, i, rng));
      }
    }
    DatasetLoader.Loaded loaded = load("image_folder", folder, 2, false);
    assertEquals(28, loaded.squareSize());
    InputPipeline p = new InputPipeline(28, InputPipeline.TrainCrop.RANDOM_RESIZED_CROP, loaded.squareSize() == 28);
    ImageU8 img = loaded.samples().image(0);
    assertEquals(img, p.evaluation(img));
    assertEquals(img, p.training((x, r) -> x).apply(img, new SplittableRandom(1)));
  }

  @Test
  void unreadableFilesAreNamedFirstTwentyAndCountedOrSkippedOnRequest() throws Exception {
    Path folder = root.resolve("spoilt");
    SyntheticPhotos.writeFolder(folder, List.of("a", "b"), 3, 40, 60, 2);
    byte[] jpeg = SyntheticPhotos.photo(SyntheticPhotos.Kind.JPEG, 50, 70, 0, new SplittableRandom(1));
    Files.write(folder.resolve("a/truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
    Files.writeString(folder.resolve("a/text.jpg"), "I am a text file named like a photo");
    Files.write(folder.resolve("b/zero.png"), new byte[0]);
    Files.write(folder.resolve("b/bomb.png"), PhotoDecoderTest.pngHeader(30_000, 30_000));
    for (int i = 0; i < 20; i++) {
      Files.write(folder.resolve("b/empty-" + i + ".jpg"), new byte[0]);
    }
    InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> load("image_folder", folder, 2, false));
    String msg = e.getMessage();
    assertTrue(msg.contains("truncated.jpg is not a readable image: the JPEG is truncated"), msg);
    assertTrue(msg.contains("text.jpg is not a readable image: its content is not PNG or JPEG"), msg);
    assertTrue(msg.contains("bomb.png is 30000x30000 = 900,000,000 pixels"), msg);
    assertTrue(msg.contains("dataset.skip_unreadable: 24 file(s) cannot be used (the first 20 are named above)"), msg);
    assertEquals(21, e.problems().size(), "20 files named and one count");

    DatasetLoader.Loaded skipped = load("image_folder", folder, 2, true);
    assertEquals(24, skipped.skipped());
    assertEquals(6, skipped.samples().size());
    Files.write(folder.resolve("a/zero.jpg"), new byte[0]);
    assertTrue(assertThrows(InvalidSpecException.class, () -> load("image_folder", folder, 2, false)).getMessage()
        .contains("zero.jpg is not a readable image: the file is empty (0 bytes)"));
  }

  @Test
  void trainAndValFoldersAreTheSplitAndMustHoldTheSameClasses() throws Exception {
    Path folder = root.resolve("tv");
    SyntheticPhotos.writeFolder(folder.resolve("train"), List.of("cat", "dog"), 4, 30, 50, 3);
    SyntheticPhotos.writeFolder(folder.resolve("val"), List.of("cat", "dog"), 2, 30, 50, 4);
    DatasetLoader.Loaded loaded = load("image_folder", folder, 2, false);
    assertEquals(List.of("cat", "dog"), loaded.samples().classNames());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, loaded.presetSplit().train());
    assertArrayEquals(new int[] {8, 9, 10, 11}, loaded.presetSplit().validation());
    assertTrue(((PhotoSamples) loaded.samples()).entries().get(9).location().contains("/val/cat/"));

    SyntheticPhotos.writeFolder(folder.resolve("val"), List.of("fox"), 2, 30, 50, 5);
    InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> load("image_folder", folder, 2, false));
    assertTrue(e.getMessage().contains("dataset.images: train/ and val/ must hold the same class folders: train/ has [cat, dog],"
        + " val/ has [cat, dog, fox] (only in train/: [], only in val/: [fox])"), e.getMessage());
  }

  @Test
  void aCsvManifestNamesPathsLabelsAndOptionallyTheSplit() throws Exception {
    List<Path> files = SyntheticPhotos.writeFolder(root.resolve("csv/img"), List.of("x", "y", "z"), 3, 30, 50, 6);
    StringBuilder csv = new StringBuilder("path,label,split\n");
    for (int i = 0; i < files.size(); i++) {
      String rel = root.resolve("csv").relativize(files.get(i)).toString();
      csv.append('"').append(rel).append("\",").append(List.of("x", "y", "z").get(i / 3)).append(',')
          .append(i % 3 == 2 ? "val" : "train").append('\n');
    }
    Path manifest = root.resolve("csv/manifest.csv");
    Files.writeString(manifest, csv);
    DatasetLoader.Loaded loaded = load("csv", manifest, 3, false);
    assertEquals(List.of("x", "y", "z"), loaded.samples().classNames());
    assertEquals(6, loaded.presetSplit().train().length);
    assertEquals(3, loaded.presetSplit().validation().length);

    // integer labels, no split column: a random split later
    Files.writeString(manifest, "label,path\n0,img/x/" + files.get(0).getFileName() + "\n1,img/y/" + files.get(3).getFileName()
        + "\n0,img/x/" + files.get(1).getFileName() + "\n1,img/y/" + files.get(4).getFileName() + "\n");
    DatasetLoader.Loaded ints = load("csv", manifest, 2, false);
    assertEquals(null, ints.presetSplit());
    assertArrayEquals(new int[] {0, 1, 0, 1}, ints.samples().labels());

    Path outside = Files.createTempDirectory("outside-roots");
    Files.write(outside.resolve("p.png"), Files.readAllBytes(files.get(0)));
    Files.writeString(manifest, "path,label\nimg/x/" + files.get(0).getFileName() + ",x\n" + outside.resolve("p.png") + ",y\n"
        + "../../../../etc/passwd,y\nimg/y/" + files.get(3).getFileName() + ",zebra\n");
    InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> load("csv", manifest, 3, false));
    assertTrue(e.getMessage().contains("manifest.csv line 3: path '" + outside.resolve("p.png") + "' lies outside the allowed roots"),
        e.getMessage());
    assertTrue(e.getMessage().contains("manifest.csv line 4: path '../../../../etc/passwd' lies outside the allowed roots"),
        e.getMessage());
    Files.writeString(manifest, "path,label\nimg/x/" + files.get(0).getFileName() + ",0\nimg/y/" + files.get(3).getFileName()
        + ",7\n");
    assertTrue(assertThrows(InvalidSpecException.class, () -> load("csv", manifest, 2, false)).getMessage()
        .contains("manifest.csv line 3: unknown label '7'; the classes are 0..1 (num_classes)"));
    Files.writeString(manifest, "path,label\nimg/x/" + files.get(0).getFileName() + ",x\nimg/y/" + files.get(3).getFileName()
        + ",zebra\n");
    InvalidSpecException unknown = assertThrows(InvalidSpecException.class, () -> DatasetLoader.load(DatasetSpec.newBuilder()
        .setFormat("csv").setImages(manifest.toString()).addAllClassNames(List.of("x", "y")).build(), 2, paths()));
    assertTrue(unknown.getMessage().contains("line 3: unknown label 'zebra'; the classes are [x, y] (dataset.classNames)"),
        unknown.getMessage());
    Files.writeString(manifest, "file,class\na.png,x\n");
    assertTrue(assertThrows(InvalidSpecException.class, () -> load("csv", manifest, 2, false)).getMessage()
        .contains("the header row must name the columns path and label"));
  }

  @Test
  void acceptanceReadsHeadersAndEndsNotWholePhotos() throws Exception {
    Path folder = root.resolve("large");
    SyntheticPhotos.writeFolder(folder, List.of("a", "b"), 2, 40, 60, 8);
    // a 1,200 x 1,000 noisy JPEG (several hundred KB): its header is in the first 64 KiB, its end marker in the last 1 KiB
    byte[] big = SyntheticPhotos.photo(SyntheticPhotos.Kind.JPEG, 1000, 1200, 1, new SplittableRandom(2));
    assertTrue(big.length > 4 * PhotoIndex.HEAD, "the test photo must be larger than what acceptance reads: " + big.length);
    Files.write(folder.resolve("b/big.jpg"), big);
    // the same photo behind 70 KB of metadata (an APP2 block of ICC-profile size): the header lies past 64 KiB
    java.io.ByteArrayOutputStream padded = new java.io.ByteArrayOutputStream();
    padded.write(big, 0, 2);
    for (int block = 0; block < 2; block++) {
      int len = 35_002;
      padded.write(new byte[] {(byte) 0xFF, (byte) 0xE2, (byte) (len >> 8), (byte) len});
      padded.write(new byte[len - 2]);
    }
    padded.write(big, 2, big.length - 2);
    Files.write(folder.resolve("b/metadata-first.jpg"), padded.toByteArray());
    PhotoSamples samples = (PhotoSamples) load("image_folder", folder, 2, false).samples();
    for (String name : List.of("big.jpg", "metadata-first.jpg")) {
      PhotoSamples.Entry e = samples.entries().stream().filter(x -> x.location().endsWith(name)).findFirst().orElseThrow();
      assertEquals("1000x1200", e.height() + "x" + e.width(), name);
    }
    // cut beyond the first 64 KiB: the missing end marker is found from the file's last KiB
    Files.write(folder.resolve("b/big.jpg"), Arrays.copyOf(big, big.length - 5000));
    assertTrue(assertThrows(InvalidSpecException.class, () -> load("image_folder", folder, 2, false)).getMessage()
        .contains("big.jpg is not a readable image: the JPEG is truncated"));
  }
}
