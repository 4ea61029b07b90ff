package io.tunefleet.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.TrainingRequest;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer's logic without a broker: verification, input size, image reading, classification, JSON. */
class ModelConsumerTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  static final Architecture TINY = Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")
      .setNumClasses(3).build();

  @TempDir static Path dir;
  static Path fashionMnistTest;

  @BeforeAll
  static void findDatasets() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("datasets/fashion-mnist"))) {
      p = p.getParent();
    }
    fashionMnistTest = p.resolve("datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  }

  static BlobRef write(String name, byte[] bytes) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, bytes);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    return BlobRef.newBuilder().setUri(f.toUri().toString()).setSha256(sha).setSizeBytes(bytes.length).build();
  }

  /** A model file of {@link #TINY} with freshly initialised weights: enough to exercise loading and inference. */
  static byte[] tinyModelFile() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResNet net = ResNets.build(TINY, m, 28);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      ParameterNames.of(net).forEach((name, p) -> weights.put(name, p.getArray()));
      return ModelFile.encode(ModelManifest.newBuilder().setArchitecture(net.architecture()).build(), weights, Map.of());
    }
  }

  static ModelFinished event(BlobRef student) {
    Metrics metrics = Metrics.newBuilder()
        .addPerClass(ClassMetrics.newBuilder().setLabel(0).setName("Trouser"))
        .addPerClass(ClassMetrics.newBuilder().setLabel(1).setName("Dress"))
        .addPerClass(ClassMetrics.newBuilder().setLabel(2).setName("Sandal")).build();
    return ModelFinished.newBuilder().setJobId("unit")
        .setStudent(FinishedModel.newBuilder().setModel(student).setArchitecture(ResNets.resolve(TINY)).setMetrics(metrics))
        .build();
  }

  @Test
  void returnsTheBytesOfAFileThatMatchesItsReference() throws Exception {
    byte[] bytes = {1, 2, 3, 4};
    assertArrayEquals(bytes, ModelConsumer.fetchVerified(write("ok.bin", bytes)));
  }

  @Test
  void refusesAFileWhoseSha256IsNotTheAnnouncedOne() throws Exception {
    BlobRef ref = write("tampered.bin", new byte[] {1, 2, 3, 4});
    Files.write(Path.of(java.net.URI.create(ref.getUri())), new byte[] {1, 2, 3, 5});
    IOException e = assertThrows(IOException.class, () -> ModelConsumer.fetchVerified(ref));
    assertTrue(e.getMessage().contains("sha256 mismatch") && e.getMessage().contains(ref.getSha256()), e.getMessage());
  }

  @Test
  void refusesAFileWhoseSizeIsNotTheAnnouncedOne() throws Exception {
    BlobRef ref = write("short.bin", new byte[] {1, 2, 3, 4}).toBuilder().setSizeBytes(5).build();
    IOException e = assertThrows(IOException.class, () -> ModelConsumer.fetchVerified(ref));
    assertTrue(e.getMessage().contains("size mismatch"), e.getMessage());
  }

  @Test
  void fetchesAnS3ModelThroughItsPresignedUrlWithoutCredentialsAndStillChecksIt() throws Exception {
    try (io.tunefleet.common.testing.S3TestServer s3 = io.tunefleet.common.testing.S3TestServer.start()) {
      io.tunefleet.common.blob.S3Settings s = s3.settings(s3.newRoot("models", "consumer"));
      try (io.tunefleet.common.blob.S3BlobStore store = io.tunefleet.common.blob.S3BlobStore.open(
          new io.tunefleet.common.blob.S3Settings(s.root(), s.endpoint(), s.region(), java.time.Duration.ofSeconds(60),
              s.credentials()), null)) {
        byte[] bytes = {9, 8, 7, 6};
        BlobRef ref = store.presigned(store.put("jobs/j/models/student.model", bytes));
        assertTrue(ref.getUri().startsWith("s3://"), ref.getUri());
        assertArrayEquals(bytes, ModelConsumer.fetchVerified(ref));
        store.put("jobs/j/models/student.model", new byte[] {9, 8, 7, 5}); // replaced behind the event's back
        IOException e = assertThrows(IOException.class, () -> ModelConsumer.fetchVerified(ref));
        assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
        IOException noUrl = assertThrows(IOException.class,
            () -> ModelConsumer.fetchVerified(ref.toBuilder().clearPresignedUrl().build()));
        assertTrue(noUrl.getMessage().contains("FLEET_PRESIGN_SECONDS"), noUrl.getMessage());
      }
    }
  }

  @Test
  void softmaxSumsToOneEvenForLargeLogits() {
    double[] p = ModelConsumer.softmax(new float[] {1000f, 999f, -1000f});
    assertEquals(1.0, Arrays.stream(p).sum(), 1e-12);
    assertTrue(p[0] > p[1] && p[1] > p[2]);
  }

  @Test
  void classifiesAnIdxImageWithTheStudentAndNamesItsClass() throws Exception {
    ModelFinished event = event(write("student.model", tinyModelFile()));
    Prediction p = ModelConsumer.classify(event, InputImages.readIdx(fashionMnistTest, 0), new ModelInputSize(28, 28));
    assertEquals("unit", p.job());
    assertEquals("student", p.model());
    assertEquals(3, p.probabilities().length);
    assertEquals(1.0, Arrays.stream(p.probabilities()).sum(), 1e-9);
    assertEquals(new String[] {"Trouser", "Dress", "Sandal"}[p.predictedClass()], p.className());
  }

  @Test
  void refusesAnImageOfAnotherSizeThanTheTrainingDataSayingItDoesNotResize() throws Exception {
    ModelFinished event = event(write("student2.model", tinyModelFile()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelConsumer.classify(event, ImageU8.blank(32, 32, 3), new ModelInputSize(28, 28)));
    assertTrue(e.getMessage().contains("32x32") && e.getMessage().contains("takes 28x28") && e.getMessage().contains("does not resize"),
        e.getMessage());
  }

  @Test
  void readsTheInputSizeFromTheIdxHeaderOfTheTrainingData() throws Exception {
    TrainingRequest accepted = TrainingRequest.newBuilder()
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages(fashionMnistTest.toString())).build();
    assertEquals(new ModelInputSize(28, 28), ModelInputSize.ofTrainingData(accepted));
  }

  @Test
  void readsTheInputSizeFromTheFirstImageOfAnImageFolder() throws Exception {
    Path folder = dir.resolve("pets");
    Files.createDirectories(folder.resolve("cat"));
    ImageIO.write(new BufferedImage(20, 12, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("cat/0.png").toFile());
    TrainingRequest accepted = TrainingRequest.newBuilder()
        .setDataset(DatasetSpec.newBuilder().setFormat("image_folder").setImages(folder.toUri().toString())).build();
    assertEquals(new ModelInputSize(12, 20), ModelInputSize.ofTrainingData(accepted));
  }

  @Test
  void asksForAnInputSizeWhenTheTrainingDataIsNotReachable() {
    TrainingRequest accepted = TrainingRequest.newBuilder()
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages("/nowhere/images.gz")).build();
    IOException e = assertThrows(IOException.class, () -> ModelInputSize.ofTrainingData(accepted));
    assertTrue(e.getMessage().contains("--input-size"), e.getMessage());
  }

  @Test
  void readsAPngAsThreeChannelsOfTheSameSize() throws Exception {
    BufferedImage rgb = new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(2, 1, 0x102030);
    Path png = dir.resolve("one.png");
    ImageIO.write(rgb, "png", png.toFile());
    ImageU8 img = InputImages.read(png);
    assertEquals(4, img.height());
    assertEquals(5, img.width());
    assertEquals(3, img.channels());
    assertEquals(0x20, img.get(1, 2, 1));
  }

  @Test
  void readsTheNthImageOfAnIdxFileAndRejectsAnIndexOutOfRange() throws Exception {
    ImageU8 img = InputImages.readIdx(fashionMnistTest, 1999);
    assertEquals(28, img.height());
    assertEquals(img.get(10, 10, 0), img.get(10, 10, 2));
    assertThrows(IllegalArgumentException.class, () -> InputImages.readIdx(fashionMnistTest, 2000));
  }

  @Test
  void printsOneJsonLineWithQuotedNames() {
    String json = new Prediction("job \"7\"", "student", 1, "Ankle boot", new double[] {0.25, 0.75}).toJson();
    assertEquals("{\"job\":\"job \\\"7\\\"\",\"model\":\"student\",\"predicted_class\":1,\"class_name\":\"Ankle boot\","
        + "\"probabilities\":[0.25,0.75]}", json);
  }

  @Test
  void readsAnEventSavedAsJsonByTheCli() throws Exception {
    Path saved = dir.resolve("models.jsonl");
    Files.writeString(saved, "{\"jobId\":\"a\"}\n\n{\"jobId\":\"b\",\"compressionRatio\":4.5}\n");
    assertEquals(4.5, ModelConsumer.readEventFile(saved, "b").getCompressionRatio());
    assertEquals("a", ModelConsumer.readEventFile(saved, null).getJobId());
    assertThrows(IOException.class, () -> ModelConsumer.readEventFile(saved, "c"));
  }
}
