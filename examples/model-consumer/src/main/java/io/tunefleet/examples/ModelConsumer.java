package io.tunefleet.examples;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.google.protobuf.util.JsonFormat;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A downstream consumer of the fleet's finished models: reads a {@link ModelFinished} event from
 * {@code <prefix>.models}, fetches the student's model file (the teacher's when the job had no
 * distillation), checks it is the file the event announced (size and sha256) and classifies an image.
 *
 * <pre>
 * ModelConsumer --bootstrap HOST:PORT [--topic-prefix fleet] [--job JOB] [--timeout SECONDS]
 *               (--image FILE.png | --idx-images FILE --idx-index N) [--input-size HxW]
 * ModelConsumer --event model.json (--image … | --idx-images …)      # an event saved by `fleet demo`
 * </pre>
 *
 * It prints one line of JSON: {@code {"job":…,"model":"student","predicted_class":…,"class_name":…,"probabilities":[…]}}.
 */
public final class ModelConsumer {
  private final String bootstrapServers;
  private final String topic;

  public ModelConsumer(String bootstrapServers, String topicPrefix) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topicPrefix + ".models";
  }

  public String topic() {
    return topic;
  }

  /** The first finished-model event of {@code job} (of any job when null), waiting for it up to {@code timeout}. */
  public ModelFinished awaitModel(String job, Duration timeout) throws IOException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
      // No consumer group: every run reads the topic from the beginning, so a job that finished
      // before this consumer started is found as well as one that finishes while it waits.
      List<TopicPartition> partitions = partitionsOf(consumer, deadline);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (!partitions.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (job == null || job.equals(r.key())) {
            return ModelFinished.parseFrom(r.value());
          }
        }
      }
    }
    throw new TimeoutException("no finished model" + (job == null ? "" : " for job " + job) + " on " + topic + " at "
        + bootstrapServers + " within " + timeout.toSeconds() + " s");
  }

  /** The topic's partitions, once it exists (the fleet creates it when its services start). */
  private List<TopicPartition> partitionsOf(KafkaConsumer<String, byte[]> consumer, long deadline) {
    while (System.nanoTime() < deadline) {
      try {
        Duration wait = Duration.ofNanos(Math.max(0, Math.min(Duration.ofSeconds(5).toNanos(), deadline - System.nanoTime())));
        List<TopicPartition> partitions = consumer.partitionsFor(topic, wait).stream()
            .map(info -> new TopicPartition(topic, info.partition())).toList();
        if (!partitions.isEmpty()) {
          return partitions;
        }
        Thread.sleep(500);
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        // the broker is not reachable yet: keep trying until the deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return List.of();
  }

  /** Classifies {@code image} at the size of the model's training data (read from the dataset the job used). */
  public static Prediction classify(ModelFinished event, ImageU8 image) throws IOException {
    TrainingRequest accepted = TrainingRequest.parseFrom(fetchVerified(event.getLineage().getRequest()));
    return classify(event, image, ModelInputSize.ofTrainingData(accepted));
  }

  /** Classifies {@code image}, which must be {@code inputSize}, with the event's student (or teacher). */
  public static Prediction classify(ModelFinished event, ImageU8 image, ModelInputSize inputSize) throws IOException {
    String which = event.hasStudent() ? "student" : "teacher";
    FinishedModel finished = event.hasStudent() ? event.getStudent() : event.getTeacher();
    byte[] modelFile = fetchVerified(finished.getModel());
    inputSize.check(image);
    try (Classifier model = Classifier.load(modelFile, inputSize.height(), Device.cpu());
        NDManager scope = model.manager().newSubManager()) {
      int classes = model.net().architecture().getNumClasses();
      int announced = finished.getArchitecture().getNumClasses();
      if (announced != 0 && announced != classes) {
        throw new IOException("the model file has " + classes + " classes but the event announces " + announced);
      }
      ImageBatch one = ImageBatch.of(List.of(image), new int[1], new int[1]);
      double[] probabilities = softmax(model.logits(scope, one).toFloatArray());
      int best = 0;
      for (int c = 1; c < probabilities.length; c++) {
        best = probabilities[c] > probabilities[best] ? c : best;
      }
      return new Prediction(event.getJobId(), which, best, classNames(finished).getOrDefault(best, "class " + best),
          probabilities);
    }
  }

  /**
   * Reads the file a {@link BlobRef} points to and returns its bytes only when they are exactly the
   * announced file: the size and the sha256 must match, or nothing of it is used.
   */
  public static byte[] fetchVerified(BlobRef ref) throws IOException {
    URI uri = URI.create(ref.getUri());
    byte[] bytes;
    if (!ref.getPresignedUrl().isEmpty()) {
      // an s3:// model with a presigned HTTPS URL (FLEET_PRESIGN_SECONDS on the fleet): no credentials needed
      bytes = fetchUrl(URI.create(ref.getPresignedUrl()), ref.getUri());
    } else if ("file".equals(uri.getScheme())) {
      bytes = Files.readAllBytes(Path.of(uri));
    } else {
      throw new IOException("cannot fetch " + ref.getUri() + ": this example reads file: URIs, or s3:// ones that carry "
          + "a presigned URL (set FLEET_PRESIGN_SECONDS on the fleet)");
    }
    if (bytes.length != ref.getSizeBytes()) {
      throw new IOException("refusing " + ref.getUri() + ": size mismatch, it has " + bytes.length
          + " bytes but the event announces " + ref.getSizeBytes());
    }
    String sha256 = sha256(bytes);
    if (!sha256.equals(ref.getSha256())) {
      throw new IOException("refusing " + ref.getUri() + ": sha256 mismatch, the file hashes to " + sha256
          + " but the event announces " + ref.getSha256());
    }
    return bytes;
  }

  private static byte[] fetchUrl(URI url, String blob) throws IOException {
    try {
      java.net.http.HttpResponse<byte[]> r = java.net.http.HttpClient.newBuilder()
          .connectTimeout(java.time.Duration.ofSeconds(10)).followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build()
          .send(java.net.http.HttpRequest.newBuilder(url).timeout(java.time.Duration.ofMinutes(5)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        throw new IOException("cannot fetch " + blob + " from its presigned URL: HTTP " + r.statusCode()
            + (r.statusCode() == 403 ? " (expired?)" : ""));
      }
      return r.body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching " + blob, e);
    }
  }

  static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = Math.exp(logits[i] - max); // shifted by the max: exp cannot overflow
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  /** Class names by label, as the evaluator reported them (the request's dataset.class_names, else "class N"). */
  private static Map<Integer, String> classNames(FinishedModel finished) {
    Map<Integer, String> names = new HashMap<>();
    for (ClassMetrics c : finished.getMetrics().getPerClassList()) {
      names.put(c.getLabel(), c.getName());
    }
    return names;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A finished-model event saved as JSON (`fleet demo > model.json`, or a line of `fleet models`). */
  static ModelFinished readEventFile(Path file, String job) throws IOException {
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      ModelFinished.Builder b = ModelFinished.newBuilder();
      JsonFormat.parser().merge(line, b);
      if (job == null || job.equals(b.getJobId())) {
        return b.build();
      }
    }
    throw new IOException("no finished-model event" + (job == null ? "" : " for job " + job) + " in " + file);
  }

  /** The command line, minus printing: returns the prediction or throws naming the problem. */
  public static Prediction run(String... args) throws Exception {
    Map<String, String> o = options(args);
    String job = o.get("--job");
    ModelFinished event;
    if (o.containsKey("--event")) {
      event = readEventFile(Path.of(o.get("--event")), job);
    } else {
      String bootstrap = o.getOrDefault("--bootstrap", System.getenv().getOrDefault("FLEET_BOOTSTRAP_SERVERS", ""));
      if (bootstrap.isBlank()) {
        throw new IllegalArgumentException("no Kafka cluster: pass --bootstrap HOST:PORT (or set FLEET_BOOTSTRAP_SERVERS), or --event FILE");
      }
      String prefix = o.getOrDefault("--topic-prefix", System.getenv().getOrDefault("FLEET_TOPIC_PREFIX", "fleet"));
      Duration timeout = Duration.ofSeconds(Long.parseLong(o.getOrDefault("--timeout", "300")));
      event = new ModelConsumer(bootstrap, prefix).awaitModel(job, timeout);
    }
    ImageU8 image;
    if (o.containsKey("--image")) {
      image = InputImages.read(Path.of(o.get("--image")));
    } else if (o.containsKey("--idx-images")) {
      image = InputImages.readIdx(Path.of(o.get("--idx-images")), Integer.parseInt(o.getOrDefault("--idx-index", "0")));
    } else {
      throw new IllegalArgumentException("no image: pass --image FILE (PNG or JPEG) or --idx-images FILE --idx-index N");
    }
    return o.containsKey("--input-size")
        ? classify(event, image, ModelInputSize.parse(o.get("--input-size")))
        : classify(event, image);
  }

  private static final List<String> OPTIONS = List.of("--bootstrap", "--topic-prefix", "--job", "--timeout", "--event",
      "--image", "--idx-images", "--idx-index", "--input-size");

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!OPTIONS.contains(args[i]) || i + 1 >= args.length) {
        throw new IllegalArgumentException((OPTIONS.contains(args[i]) ? args[i] + " needs a value" : "unknown option " + args[i])
            + "; options: " + String.join(" ", OPTIONS));
      }
      o.put(args[i], args[i + 1]);
    }
    return o;
  }

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", "true"); // the PyTorch native library ships with the jars
    try {
      System.out.println(run(args).toJson());
    } catch (Exception e) {
      System.err.println("model-consumer: " + (e.getMessage() == null ? e : e.getMessage()));
      System.exit(1);
    }
  }
}
