package io.tunefleet.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.cli.FleetClient;
import io.tunefleet.cli.JobWatcher;
import io.tunefleet.cli.LocalFleet;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Artifact;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonObject;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example consumer against a real finished-model event: a small job through a real broker and all four
 * services, its ModelFinished saved as JSON as `fleet models` prints it, then the consumer alone (no fleet code
 * on its classpath) classifies a JPEG of another size than the training images with the student's model.onnx.
 */
@Tag("integration")
class ModelConsumerIT {
  static final String JOB = "consumer-odd";
  static final List<Integer> CLASSES = List.of(1, 3, 5, 7, 9);
  static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot");

  static KafkaTestCluster kafka;
  static LocalFleet fleet;
  static FleetClient client;
  static ModelFinished finished;
  static Path eventFile;
  @TempDir static Path blobRoot;

  @BeforeAll
  static void runASmallJobAndSaveItsEvent() throws Exception {
    System.setProperty("ai.djl.offline", "true");
    kafka = KafkaTestCluster.start(3);
    String topicPrefix = "t" + UUID.randomUUID().toString().substring(0, 8);
    fleet = LocalFleet.start(FleetConfig.load(new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers())
        .put(FleetConfig.BLOB_ROOT.key(), blobRoot.toString())
        .put(FleetConfig.DATA_ROOTS.key(), datasets().toString() + ":" + blobRoot)
        .put(FleetConfig.TOPIC_PREFIX.key(), topicPrefix)
        .put(FleetConfig.PARTITIONS.key(), 3), Map.of()), false);
    client = new FleetClient(fleet.config());
    client.submit(smallJob());
    JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(JOB, Duration.ofMinutes(5));
    assertTrue(outcome.succeeded(), "job failed: " + outcome.lastStatus());
    List<ConsumerRecord<String, byte[]>> models = client.readAll(JOB, List.of(client.topics().models));
    assertEquals(1, models.size(), "finished-model events of " + JOB);
    finished = ModelFinished.parseFrom(models.get(0).value());
    eventFile = blobRoot.resolve("event.json");
    Files.writeString(eventFile, FleetClient.json(finished) + "\n");
  }

  @AfterAll
  static void stop() {
    if (client != null) {
      client.close();
    }
    if (fleet != null) {
      fleet.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  /** 5 odd Fashion-MNIST classes, 60 images each, a narrow ResNet-10, two epochs and one of distillation. */
  static TrainingRequest smallJob() {
    Path fm = datasets().resolve("fashion-mnist");
    return TrainingRequest.newBuilder().setJobId(JOB).setNumClasses(5)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
            .addAllClasses(CLASSES).addAllClassNames(NAMES).setMaxPerClass(60))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet10")
            .setBaseWidth(16).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(32).setLrHead(0.05))
        .setDistillation(Distillation.newBuilder().setEpochs(1))
        .build();
  }

  static Path datasets() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("datasets/fashion-mnist"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("datasets/fashion-mnist not found above " + Path.of("").toAbsolutePath());
    }
    return p.resolve("datasets");
  }

  /** The first Fashion-MNIST test image of {@code sourceLabel}, enlarged to {@code w x h} and saved as a JPEG. */
  static Path testJpeg(int sourceLabel, int w, int h) throws IOException {
    Path fm = datasets().resolve("fashion-mnist");
    int index = -1;
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(
        Files.newInputStream(fm.resolve("t10k-labels-idx1-ubyte.gz"))))) {
      in.readInt(); // magic
      byte[] labels = in.readNBytes(in.readInt());
      for (int i = 0; i < labels.length && index < 0; i++) {
        if (labels[i] == sourceLabel) {
          index = i;
        }
      }
    }
    BufferedImage gray = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(
        Files.newInputStream(fm.resolve("t10k-images-idx3-ubyte.gz"))))) {
      in.skipNBytes(16 + (long) index * 28 * 28);
      byte[] px = in.readNBytes(28 * 28);
      gray.getRaster().setDataElements(0, 0, 28, 28, px);
    }
    BufferedImage big = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = big.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(gray, 0, 0, w, h, null);
    g.dispose();
    Path jpeg = blobRoot.resolve("label" + sourceLabel + "-" + w + "x" + h + ".jpg");
    ImageIO.write(big, "jpg", jpeg.toFile());
    return jpeg;
  }

  @Test
  void theEventListsOnnxSafetensorsCardAndTfmForTeacherAndStudent() {
    for (FinishedModel m : List.of(finished.getTeacher(), finished.getStudent())) {
      assertEquals(List.of("onnx", "safetensors", "card", "tfm"), m.getArtifactsList().stream().map(Artifact::getFormat).toList());
      assertEquals(m.getModel(), m.getArtifacts(3).getFile(), "tfm is today's file");
      for (Artifact a : m.getArtifactsList()) {
        assertTrue(Files.isRegularFile(Path.of(URI.create(a.getFile().getUri()))), a.getFile().getUri());
      }
    }
    String json = FleetClient.json(finished);
    assertTrue(json.contains("\"artifacts\":[{\"format\":\"onnx\",\"file\":{\"uri\":\"file:"), json);
  }

  @Test
  void classifiesAJpegOfAnotherSizeThanTheTrainingImagesWithTheStudentsOnnxFile() throws Exception {
    Path sneaker = testJpeg(7, 90, 70); // the model trained on 28x28 images

    Prediction p = ModelConsumer.run("--event", eventFile.toString(), "--job", JOB, "--image", sneaker.toString());

    System.out.println("model consumer, 90x70 JPEG of a sneaker: " + p.toJson());
    assertEquals(JOB, p.job());
    assertEquals("student", p.model());
    assertEquals(NAMES.get(p.predictedClass()), p.className());
    assertEquals(CLASSES.size(), p.probabilities().length);
    assertEquals(1.0, Arrays.stream(p.probabilities()).sum(), 1e-6);
    assertEquals(Arrays.stream(p.probabilities()).max().orElseThrow(), p.probabilities()[p.predictedClass()]);
    Prediction teacher = ModelConsumer.run("--event", eventFile.toString(), "--model", "teacher", "--image",
        sneaker.toString());
    System.out.println("model consumer, same JPEG, teacher: " + teacher.toJson());
    assertEquals("teacher", teacher.model());
  }

  @Test
  void refusesATamperedOnnxFileNamingTheSha256Mismatch() throws Exception {
    Artifact onnx = finished.getStudent().getArtifacts(0);
    Path file = Path.of(URI.create(onnx.getFile().getUri()));
    byte[] original = Files.readAllBytes(file);
    byte[] tampered = original.clone();
    tampered[tampered.length / 2] ^= 0x01;
    Files.write(file, tampered);
    try {
      IOException e = assertThrows(IOException.class, () -> ModelConsumer.run("--event", eventFile.toString(), "--image",
          testJpeg(7, 28, 28).toString()));
      assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
      assertTrue(e.getMessage().contains(onnx.getFile().getSha256()), e.getMessage());
      assertTrue(e.getMessage().contains("student/model.onnx"), e.getMessage());
    } finally {
      Files.write(file, original);
    }
  }
}
