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
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonObject;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example consumer against a real finished-model event: a small job through a real broker and all four services. */
@Tag("integration")
class ModelConsumerIT {
  static final String JOB = "consumer-odd";
  static final List<Integer> CLASSES = List.of(1, 3, 5, 7, 9);
  static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot");

  static KafkaTestCluster kafka;
  static LocalFleet fleet;
  static FleetClient client;
  static String topicPrefix;
  static ModelFinished finished;
  @TempDir static Path blobRoot;

  @BeforeAll
  static void runASmallJobWhileTheConsumerWaitsForIt() throws Exception {
    System.setProperty("ai.djl.offline", "true");
    kafka = KafkaTestCluster.start(3);
    topicPrefix = "t" + UUID.randomUUID().toString().substring(0, 8);
    fleet = LocalFleet.start(FleetConfig.load(new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers())
        .put(FleetConfig.BLOB_ROOT.key(), blobRoot.toString())
        .put(FleetConfig.DATA_ROOTS.key(), datasets().toString() + ":" + blobRoot)
        .put(FleetConfig.TOPIC_PREFIX.key(), topicPrefix)
        .put(FleetConfig.PARTITIONS.key(), 3), Map.of()), false);
    client = new FleetClient(fleet.config());
    ModelConsumer consumer = new ModelConsumer(kafka.bootstrapServers(), topicPrefix);
    CompletableFuture<ModelFinished> awaited = CompletableFuture.supplyAsync(() -> {
      try {
        return consumer.awaitModel(JOB, Duration.ofMinutes(6));
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    client.submit(smallJob());
    JobWatcher.Outcome outcome = new JobWatcher(client, System.out).watch(JOB, Duration.ofMinutes(5));
    assertTrue(outcome.succeeded(), "job failed: " + outcome.lastStatus());
    finished = awaited.get(1, TimeUnit.MINUTES);
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

  static Path testImages() {
    return datasets().resolve("fashion-mnist/t10k-images-idx3-ubyte.gz");
  }

  /** The index of the first Fashion-MNIST test image whose label is {@code sourceLabel}. */
  static int firstTestImageOf(int sourceLabel) throws IOException {
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(
        Files.newInputStream(datasets().resolve("fashion-mnist/t10k-labels-idx1-ubyte.gz"))))) {
      in.readInt(); // magic
      byte[] labels = in.readNBytes(in.readInt());
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == sourceLabel) {
          return i;
        }
      }
    }
    throw new IllegalStateException("no test image of label " + sourceLabel);
  }

  String[] consumerArgs(int imageIndex) {
    return new String[] {"--bootstrap", kafka.bootstrapServers(), "--topic-prefix", topicPrefix, "--job", JOB,
        "--idx-images", testImages().toString(), "--idx-index", Integer.toString(imageIndex), "--timeout", "60"};
  }

  @Test
  void classifiesARealTestImageWithTheStudentOfTheRealFinishedModelEvent() throws Exception {
    assertEquals(JOB, finished.getJobId());
    assertTrue(finished.hasStudent());
    int sneaker = firstTestImageOf(7);

    Prediction p = ModelConsumer.run(consumerArgs(sneaker));

    System.out.println("model consumer: " + p.toJson());
    assertEquals(JOB, p.job());
    assertEquals("student", p.model());
    assertTrue(p.predictedClass() >= 0 && p.predictedClass() < CLASSES.size(), "class " + p.predictedClass());
    assertEquals(NAMES.get(p.predictedClass()), p.className());
    assertEquals(CLASSES.size(), p.probabilities().length);
    assertEquals(1.0, Arrays.stream(p.probabilities()).sum(), 1e-6);
    assertTrue(Arrays.stream(p.probabilities()).allMatch(x -> x >= 0 && x <= 1));
    assertEquals(Arrays.stream(p.probabilities()).max().orElseThrow(), p.probabilities()[p.predictedClass()]);
    assertTrue(p.toJson().startsWith("{\"job\":\"" + JOB + "\",\"model\":\"student\",\"predicted_class\":"), p.toJson());
    // without --job the consumer takes the first event on the topic: here the only one
    assertEquals(JOB, new ModelConsumer(kafka.bootstrapServers(), topicPrefix).awaitModel(null, Duration.ofSeconds(60)).getJobId());
  }

  @Test
  void refusesATamperedStudentFileNamingTheSha256Mismatch() throws Exception {
    Path student = Path.of(URI.create(finished.getStudent().getModel().getUri()));
    byte[] original = Files.readAllBytes(student);
    byte[] tampered = original.clone();
    tampered[tampered.length / 2] ^= 0x01;
    Files.write(student, tampered);
    try {
      IOException e = assertThrows(IOException.class, () -> ModelConsumer.run(consumerArgs(0)));
      assertTrue(e.getMessage().contains("sha256 mismatch"), e.getMessage());
      assertTrue(e.getMessage().contains(finished.getStudent().getModel().getSha256()), e.getMessage());
      assertTrue(e.getMessage().contains(student.getFileName().toString()), e.getMessage());
    } finally {
      Files.write(student, original);
    }
  }
}
