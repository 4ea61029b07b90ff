package io.tunefleet.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpServer;
import io.tunefleet.ml.export.ModelExport;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Artifact;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.ModelManifest;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer without a broker: a tiny model exported by the fleet's own writer (test scope only), then read back
 * by the consumer through its card or an event, with hash checks, the card's transform and ONNX Runtime.
 */
class ModelConsumerTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  static final Architecture TINY = Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")
      .setNumClasses(3).build();
  static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal");

  @TempDir static Path dir;
  static ModelExport.Artifacts artifacts;
  static Path card;
  static Path onnx;

  /** A model of {@link #TINY} (freshly initialised weights), exported as the distiller exports a finished model. */
  @BeforeAll
  static void exportATinyModel() throws Exception {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResNet net = ResNets.build(TINY, m, 28);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      ParameterNames.of(net).forEach((name, p) -> weights.put(name, p.getArray()));
      ModelManifest manifest = ModelManifest.newBuilder().setArchitecture(net.architecture()).setJobId("unit")
          .setInputHeight(28).setInputWidth(28).setNormalization("half").build();
      artifacts = ModelExport.export(new ModelFile.Contents(manifest, weights, Map.of()),
          new ModelExport.Context("student", NAMES, Metrics.getDefaultInstance(), Lineage.getDefaultInstance(), 1234),
          Map.of());
    }
    Files.createDirectories(dir.resolve("student"));
    card = Files.write(dir.resolve("student/model.json"), artifacts.card());
    onnx = Files.write(dir.resolve("student/model.onnx"), artifacts.onnx());
  }

  static BlobRef ref(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    return BlobRef.newBuilder().setUri(file.toUri().toString()).setSha256(VerifiedDownload.sha256(bytes))
        .setSizeBytes(bytes.length).build();
  }

  static String event(BlobRef onnxRef, BlobRef cardRef) throws Exception {
    FinishedModel student = FinishedModel.newBuilder()
        .addArtifacts(Artifact.newBuilder().setFormat("onnx").setFile(onnxRef))
        .addArtifacts(Artifact.newBuilder().setFormat("card").setFile(cardRef)).build();
    return JsonFormat.printer().omittingInsignificantWhitespace()
        .print(ModelFinished.newBuilder().setJobId("unit").setStudent(student).build());
  }

  static Path image(int w, int h, int rgb, String format) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    Path f = dir.resolve(w + "x" + h + "." + format);
    ImageIO.write(img, format, f.toFile());
    return f;
  }

  @Test
  void classifiesAJpegOfAnotherSizeThroughTheCard() throws Exception {
    Prediction p = ModelConsumer.run("--card", card.toString(), "--image", image(61, 45, 0x808080, "jpg").toString());
    assertEquals("unit", p.job());
    assertEquals("student", p.model());
    assertEquals(3, p.probabilities().length);
    assertEquals(1.0, Arrays.stream(p.probabilities()).sum(), 1e-9);
    assertEquals(NAMES.get(p.predictedClass()), p.className());
  }

  @Test
  void classifiesThroughAnEventCheckingBothFilesAgainstIt() throws Exception {
    Path saved = Files.writeString(dir.resolve("event.json"), event(ref(onnx), ref(card)) + "\n");
    Prediction viaEvent = ModelConsumer.run("--event", saved.toString(), "--image", image(28, 28, 0x204060, "png").toString());
    Prediction viaCard = ModelConsumer.run("--card", card.toString(), "--image", image(28, 28, 0x204060, "png").toString());
    assertArrayEquals(viaCard.probabilities(), viaEvent.probabilities(), 0);
  }

  @Test
  void refusesAnOnnxFileThatIsNotTheAnnouncedOne() throws Exception {
    Path copy = Files.copy(onnx, dir.resolve("tampered.onnx"));
    BlobRef announced = ref(copy);
    byte[] tampered = Files.readAllBytes(copy);
    tampered[tampered.length / 2] ^= 1;
    Files.write(copy, tampered);
    IOException e = assertThrows(IOException.class, () -> ModelConsumer.fromEvent(event(announced, ref(card)), null));
    assertTrue(e.getMessage().contains("sha256 mismatch") && e.getMessage().contains("tampered.onnx")
        && e.getMessage().contains(announced.getSha256()), e.getMessage());
    BlobRef other = ref(onnx).toBuilder().setSha256("0".repeat(64)).build();
    e = assertThrows(IOException.class, () -> ModelConsumer.fromEvent(event(other, ref(card)), null));
    assertTrue(e.getMessage().contains("is not the event's"), e.getMessage());
    BlobRef shorter = ref(onnx).toBuilder().setSizeBytes(10).build();
    e = assertThrows(IOException.class, () -> ModelConsumer.fromEvent(event(shorter, ref(card)), null));
    assertTrue(e.getMessage().contains("size mismatch"), e.getMessage());
  }

  @Test
  void refusesAnEventWithoutServingArtifactsSayingWhichIsMissing() {
    IOException e = assertThrows(IOException.class,
        () -> ModelConsumer.fromEvent("{\"jobId\":\"old\",\"teacher\":{\"architectureName\":\"resnet18\"}}", null));
    assertTrue(e.getMessage().contains("no 'card' artifact"), e.getMessage());
  }

  @Test
  void theIdentityTransformNormalisesPixelsAsTheCardSays() throws Exception {
    ServingCard c = ServingCard.parse(Files.readString(card));
    assertEquals(ServingCard.IDENTITY, c.transform());
    float[] input = CardTransform.apply(ImageIO.read(image(28, 28, 0xff0080, "png").toFile()), c);
    assertEquals(3 * 28 * 28, input.length);
    // "half": (x / 255 - 0.5) / 0.5
    assertEquals(1f, input[0], 1e-6);
    assertEquals(-1f, input[28 * 28], 1e-6);
    assertEquals((128 / 255f - 0.5f) / 0.5f, input[2 * 28 * 28], 1e-6);
  }

  @Test
  void resizeAndCenterCropFollowsTorchvisionsGeometry() throws Exception {
    String json = Files.readString(card).replace("\"kind\": \"identity\"",
        "\"kind\": \"resize_center_crop\", \"resize_shorter_side\": 32");
    ServingCard c = ServingCard.parse(json);
    // a 64x32 image: shorter side 32 -> 64x32 stays, then a centred 28x28 crop of columns 18..45
    BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
    img.setRGB(18, 2, 0xffffff); // the crop's top-left pixel
    img.setRGB(17, 2, 0xffffff); // just outside
    float[] input = CardTransform.apply(img, c);
    assertEquals(1f, input[0], 1e-6);
    assertEquals(-1f, input[1], 1e-6);
    assertEquals(-1f, input[28], 1e-6);
  }

  @Test
  void aCardWithAMissingOrWrongFieldIsRefusedNamingTheField() throws Exception {
    String good = Files.readString(card);
    IOException e = assertThrows(IOException.class, () -> ServingCard.parse(good.replace("\"height\": 28,", "")));
    assertEquals("model card: input.height is missing", e.getMessage());
    e = assertThrows(IOException.class, () -> ServingCard.parse(good.replace("\"std\": [\n      0.5,", "\"std\": [\n      0,")));
    assertTrue(e.getMessage().contains("normalization.std must be > 0"), e.getMessage());
    e = assertThrows(IOException.class, () -> ServingCard.parse(good.replace("\"kind\": \"identity\"", "\"kind\": \"zoom\"")));
    assertTrue(e.getMessage().contains("eval_transform.kind"), e.getMessage());
    e = assertThrows(IOException.class, () -> ServingCard.parse("[1, 2]"));
    assertTrue(e.getMessage().contains("not a JSON object"), e.getMessage());
  }

  @Test
  void fetchesOverHttpsStyleUrlsAndKeepsTheQueryOutOfErrors() throws Exception {
    byte[] bytes = Files.readAllBytes(onnx);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/bucket/model.onnx", x -> {
      x.sendResponseHeaders(200, bytes.length);
      x.getResponseBody().write(bytes);
      x.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/bucket/model.onnx?X-Amz-Signature=secret";
      assertArrayEquals(bytes, VerifiedDownload.fetch(url, VerifiedDownload.sha256(bytes), bytes.length));
      IOException e = assertThrows(IOException.class, () -> VerifiedDownload.fetch(url, "1".repeat(64), -1));
      assertTrue(e.getMessage().contains("sha256 mismatch") && !e.getMessage().contains("secret"), e.getMessage());
      e = assertThrows(IOException.class, () -> VerifiedDownload.fetch(url.replace("model.onnx", "nothing"),
          "1".repeat(64), -1));
      assertTrue(e.getMessage().contains("HTTP 404") && !e.getMessage().contains("secret"), e.getMessage());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void fetchesAnS3ModelThroughItsPresignedUrlWithoutCredentialsAndStillChecksIt() throws Exception {
    try (io.tunefleet.common.testing.S3TestServer s3 = io.tunefleet.common.testing.S3TestServer.start()) {
      io.tunefleet.common.blob.S3Settings s = s3.settings(s3.newRoot("models", "consumer"));
      try (io.tunefleet.common.blob.S3BlobStore store = io.tunefleet.common.blob.S3BlobStore.open(
          new io.tunefleet.common.blob.S3Settings(s.root(), s.endpoint(), s.region(), java.time.Duration.ofSeconds(60),
              s.credentials()), null)) {
        byte[] bytes = {9, 8, 7, 6};
        io.tunefleet.proto.v1.BlobRef ref = store.presigned(store.put("jobs/j/models/student.model", bytes));
        assertTrue(ref.getUri().startsWith("s3://"), ref.getUri());
        assertArrayEquals(bytes, ModelConsumer.download(json(ref)));
        store.put("jobs/j/models/student.model", new byte[] {9, 8, 7, 5}); // replaced behind the event's back
        IOException e = assertThrows(IOException.class, () -> ModelConsumer.download(json(ref)));
        assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
        IOException noUrl = assertThrows(IOException.class,
            () -> ModelConsumer.download(json(ref.toBuilder().clearPresignedUrl().build())));
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
  void printsOneJsonLineWithQuotedNames() {
    String json = new Prediction("job \"7\"", "student", 1, "Ankle boot", new double[] {0.25, 0.75}).toJson();
    assertEquals("{\"job\":\"job \\\"7\\\"\",\"model\":\"student\",\"predicted_class\":1,\"class_name\":\"Ankle boot\","
        + "\"probabilities\":[0.25,0.75]}", json);
  }

  @Test
  void picksTheEventOfTheNamedJobFromAFileOfEvents() throws Exception {
    Path saved = dir.resolve("models.jsonl");
    Files.writeString(saved, "{\"jobId\":\"a\"}\n\n{\"jobId\":\"b\",\"compressionRatio\":4.5}\n", StandardCharsets.UTF_8);
    assertTrue(ModelConsumer.eventOf(saved, "b").contains("4.5"));
    assertTrue(ModelConsumer.eventOf(saved, null).contains("\"a\""));
    assertThrows(IOException.class, () -> ModelConsumer.eventOf(saved, "c"));
  }

  /** A BlobRef as the event's JSON carries it. */
  private static JsonDocument json(io.tunefleet.proto.v1.BlobRef ref) throws IOException {
    return JsonDocument.parse("BlobRef", com.google.protobuf.util.JsonFormat.printer().print(ref));
  }
}
