package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.protobuf.InvalidProtocolBufferException;
import io.tunefleet.cli.ProcessFleetSupport.ServiceProcess;
import io.tunefleet.common.kafka.FleetProducer;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.train.LabelSmoothingLoss;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.DeadLetter;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.FieldError;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.TrainingRequest;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file of {@code src/test/resources/bad-inputs} (listed with its channel and the error it must get
 * in {@code corpus.tsv}) is answered with a named error: JSON the parser rejects fails at the CLI; valid
 * JSON with bad content gets a FAILED status naming the field; raw bytes on the requests topic get a
 * FAILED status or a dead letter with the reason. The data-augmenter runs as its own process (1 GB heap,
 * as in a container), and after the whole corpus the fleet still finishes a good job.
 */
@Tag("integration")
class BadInputCorpusIT {
  static KafkaTestCluster kafka;

  @BeforeAll
  static void broker() {
    kafka = ProcessFleetSupport.sharedBroker();
  }

  /** One line of corpus.tsv. */
  record Entry(String file, String channel, String expected) {
    String key() {
      String name = Path.of(file).getFileName().toString();
      return channel.equals("kafka-nokey") ? "" : "raw-" + name.substring(0, name.lastIndexOf('.'));
    }
  }

  static Path corpus() throws Exception {
    return Path.of(BadInputCorpusIT.class.getResource("/bad-inputs/corpus.tsv").toURI()).getParent();
  }

  static List<Entry> entries() throws Exception {
    List<Entry> out = new ArrayList<>();
    for (String line : Files.readAllLines(corpus().resolve("corpus.tsv"), StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t");
      out.add(new Entry(f[0], f[1], f[2]));
    }
    return out;
  }

  @Test
  void everyBadInputGetsANamedErrorAndTheFleetStillFinishesAGoodJob(@TempDir Path blobRoot) throws Exception {
    List<Entry> entries = entries();
    assertTrue(entries.size() >= 30, "the corpus has " + entries.size() + " inputs");
    Path uploads = blobRoot.resolve("uploads");
    copyTree(corpus().resolve("images"), uploads);
    Path[] bomb = idxBomb(uploads);
    List<String> problems = new ArrayList<>();
    Map<String, Entry> awaited = new LinkedHashMap<>();
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3);
        FleetProducer raw = new FleetProducer(fleet.config(), "bad-input-corpus")) {
      ServiceProcess augmenter = fleet.spawn("data-augmenter", fleet.prefix() + "-augmenter");
      fleet.deploy("trainer", "evaluator", "distiller");
      FleetClient client = fleet.client();
      for (Entry e : entries) {
        Path file = corpus().resolve(e.file());
        switch (e.channel()) {
          case "cli" -> {
            try {
              FleetClient.parseRequest(Files.readString(file, StandardCharsets.UTF_8));
              problems.add(e.file() + ": the CLI parsed it");
            } catch (InvalidProtocolBufferException ex) {
              report(e, "CLI: " + ex.getMessage());
              if (!String.valueOf(ex.getMessage()).contains(e.expected())) {
                problems.add(e.file() + ": parse error '" + ex.getMessage() + "' does not say '" + e.expected() + "'");
              }
            }
          }
          case "fleet" -> {
            String json = Files.readString(file, StandardCharsets.UTF_8)
                .replace("${DATASETS}", FleetTestSupport.datasets().toString()).replace("${UPLOADS}", uploads.toString());
            TrainingRequest r = FleetClient.parseRequest(json);
            client.submit(r);
            awaited.put(r.getJobId(), e);
          }
          case "kafka", "kafka-nokey" -> {
            raw.sendRaw(fleet.topics().requests, e.channel().equals("kafka") ? e.key() : null, Files.readAllBytes(file)).get();
            awaited.put(e.key(), e);
          }
          default -> throw new IllegalArgumentException("unknown channel " + e.channel() + " in corpus.tsv");
        }
      }

      // made here rather than kept in the corpus: a 1 MB gzip IDX dataset that needs more memory than the augmenter has
      TrainingRequest small = FleetTestSupport.smallJob("bad-idx-bomb", 30);
      client.submit(small.toBuilder().setDataset(small.getDataset().toBuilder()
          .setImages(bomb[0].toString()).setLabels(bomb[1].toString())).build());
      awaited.put("bad-idx-bomb", new Entry("(generated) " + bomb[0].getFileName(), "fleet", "FAILED [dataset"));

      // base models made here too: one holding NaN is refused when loaded; one whose values are finite but so
      // large that the first forward pass overflows trains into a NaN loss, and the job fails rather than hang
      for (var base : Map.of("bad-nan-base", Float.NaN, "bad-exploding-base", 1e37f).entrySet()) {
        Path file = baseModelFilledWith(uploads, base.getKey() + ".model", base.getValue());
        client.submit(FleetTestSupport.smallJob(base.getKey(), 30).toBuilder()
            .setBaseModel(BaseModel.newBuilder().setCheckpoint(file.toString()))
            .setDistillation(Distillation.newBuilder().setEnabled(false)).build());
        awaited.put(base.getKey(), new Entry("(generated) " + file.getFileName(), "fleet",
            Float.isNaN(base.getValue()) ? "base model holds NaN or infinite values in 60 of its tensors" : "training diverged: the loss is"));
      }

      Map<String, String> answers = new LinkedHashMap<>();
      ProcessFleetSupport.await("an answer to every bad input", Duration.ofMinutes(3), () -> {
        try {
          answers.clear();
          answers.putAll(answers(client, awaited.keySet()));
          return answers.keySet().containsAll(awaited.keySet()) || !augmenter.alive();
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError(ex);
        }
      });
      for (Map.Entry<String, Entry> a : awaited.entrySet()) {
        String answer = answers.get(a.getKey());
        Entry e = a.getValue();
        report(e, answer);
        if (answer == null) {
          problems.add(e.file() + ": no FAILED status and no dead letter for key '" + a.getKey() + "'");
        } else if (!answer.contains(e.expected())) {
          problems.add(e.file() + ": the answer does not name '" + e.expected() + "': " + answer);
        }
      }
      assertTrue(augmenter.alive(), "the data-augmenter died; its log:\n" + augmenter.tail(60));
      assertEquals(List.of(), problems, String.join("\n", problems));
      assertFalse(Files.exists(Path.of("/tmp/escaped-job")), "a job id must never become a path outside the blob store");

      // the fleet is still up: a good job finishes
      client.submit(FleetTestSupport.smallJob("after-bad-inputs", 30));
      JobWatcher.Outcome good = new JobWatcher(client, System.out).watch("after-bad-inputs", Duration.ofMinutes(3));
      assertTrue(good.succeeded(), "the fleet must still finish a good job: " + good.lastStatus() + "\n" + augmenter.tail(40));
    }
  }

  @Test
  void aClassFolderLinkedOutsideTheAllowedRootsIsRejected(@TempDir Path blobRoot, @TempDir Path outside) throws Exception {
    for (String c : List.of("cat", "dog")) {
      Files.createDirectories(outside.resolve(c));
      for (int i = 0; i < 3; i++) {
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", outside.resolve(c + "/" + i + ".png").toFile());
      }
    }
    Path dataset = blobRoot.resolve("uploads/linked");
    Files.createDirectories(dataset);
    Files.createSymbolicLink(dataset.resolve("cat"), outside.resolve("cat"));
    Files.createSymbolicLink(dataset.resolve("dog"), outside.resolve("dog"));
    try (ProcessFleetSupport fleet = ProcessFleetSupport.create(kafka.bootstrapServers(), blobRoot, 3)) {
      fleet.deploy("data-augmenter");
      FleetClient client = fleet.client();
      client.submit(TrainingRequest.newBuilder().setJobId("bad-symlink").setNumClasses(2)
          .setDataset(DatasetSpec.newBuilder().setFormat("image_folder").setImages(dataset.toString()))
          .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet10")
              .setBaseWidth(4).setStem("small")))
          .setDistillation(Distillation.newBuilder().setEnabled(false)).build());
      JobStatus s = FaultJobsSupport.awaitStatus(client, "bad-symlink",
          st -> st.getState() == JobStatus.State.FAILED || st.getState() == JobStatus.State.ACCEPTED, Duration.ofMinutes(1));
      assertEquals(JobStatus.State.FAILED, s.getState(), "a dataset must not reach outside the allowed roots: " + s.getMessage());
      assertTrue(s.getMessage().contains("outside the allowed roots"), s.getMessage());
    }
  }

  /** For each awaited key: the text of its FAILED statuses (message and field errors) and dead letters. */
  private static Map<String, String> answers(FleetClient client, java.util.Set<String> keys) throws InvalidProtocolBufferException {
    Map<String, StringBuilder> text = new LinkedHashMap<>();
    for (JobStatus s : JobEventsSupport.allStatuses(client)) {
      if (s.getState() == JobStatus.State.FAILED && keys.contains(s.getJobId())) {
        text.computeIfAbsent(s.getJobId(), k -> new StringBuilder()).append("FAILED [")
            .append(s.getErrorsList().stream().map(FieldError::getField).collect(Collectors.joining(", "))).append("] ")
            .append(s.getMessage()).append(' ');
      }
    }
    for (DeadLetter d : JobEventsSupport.allDeadLetters(client)) {
      if (keys.contains(d.getKey())) {
        text.computeIfAbsent(d.getKey(), k -> new StringBuilder()).append("DEAD LETTER (").append(d.getService())
            .append("): ").append(d.getReason()).append(' ');
      }
    }
    Map<String, String> out = new LinkedHashMap<>();
    text.forEach((k, v) -> out.put(k, v.toString().trim()));
    return out;
  }

  private static void report(Entry e, String answer) {
    String a = answer == null ? "(none)" : answer.length() > 160 ? answer.substring(0, 160) + "…" : answer;
    System.out.println("bad input | " + e.file() + " | " + e.channel() + " | " + a.replace('\n', ' '));
  }

  /**
   * An IDX dataset of 64 black 4096 x 4096 images, 1 MB of gzip: within the reader's limits on count and
   * size, but 3 GB once decoded to RGB, three times the data-augmenter's heap (a decompression bomb).
   */
  /** A base model file shaped like the small jobs' network with every value set to {@code value}. */
  private static Path baseModelFilledWith(Path dir, String name, float value) throws Exception {
    Architecture arch = FleetTestSupport.smallJob("x", 1).getBaseModel().getArchitecture().toBuilder().setNumClasses(5).build();
    Path file = dir.resolve(name);
    try (NDManager m = NDManager.newBaseManager();
        TrainingSession s = TrainingSession.create(arch, 28, new TrainingSession.Config(0.1f, 0.1f, 0.9f, 1e-4f,
            new LabelSmoothingLoss(0f), new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 0, 1), 1), Device.cpu())) {
      ModelFile.Contents c = ModelFile.decode(s.save(ModelManifest.getDefaultInstance(), false), m);
      Map<String, NDArray> filled = new LinkedHashMap<>();
      c.weights().forEach((k, v) -> {
        float[] values = new float[Math.toIntExact(v.size())];
        java.util.Arrays.fill(values, value);
        filled.put(k, m.create(values, v.getShape()));
      });
      Files.write(file, ModelFile.encode(c.manifest(), filled, Map.of()));
    }
    return file;
  }

  private static Path[] idxBomb(Path dir) throws Exception {
    int n = 64;
    int side = 4096;
    Path images = dir.resolve("bomb-images-idx3-ubyte.gz");
    Path labels = dir.resolve("bomb-labels-idx1-ubyte.gz");
    try (var out = new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(Files.newOutputStream(images), 1 << 16))) {
      out.writeInt(0x00000803);
      out.writeInt(n);
      out.writeInt(side);
      out.writeInt(side);
      byte[] row = new byte[side * side];
      for (int i = 0; i < n; i++) {
        out.write(row);
      }
    }
    try (var out = new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(Files.newOutputStream(labels)))) {
      out.writeInt(0x00000801);
      out.writeInt(n);
      for (int i = 0; i < n; i++) {
        out.writeByte(1 + 2 * (i % 5)); // the classes the small job keeps: 1, 3, 5, 7, 9
      }
    }
    return new Path[] {images, labels};
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
