package io.tunefleet.examples;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A downstream consumer of the fleet's finished models that needs none of the fleet's code: only ONNX Runtime and
 * protobuf's JSON parser. It reads a {@code ModelFinished} event (protobuf JSON, as {@code fleet demo} prints it) or
 * a model card, fetches the card and the ONNX file, refuses either unless its sha256 is the announced one, applies
 * the card's evaluation transform and normalisation to an image of any size, and classifies it.
 *
 * <pre>
 * ModelConsumer --event EVENT.json [--job JOB] [--model student|teacher] --image FILE.jpg
 * ModelConsumer --card  model.json|URI                                  --image FILE.png
 * </pre>
 *
 * It prints one line of JSON: {@code {"job":…,"model":"student","predicted_class":…,"class_name":…,"probabilities":[…]}}.
 */
public final class ModelConsumer {
  private ModelConsumer() {}

  /** A card and the verified ONNX bytes it describes. */
  public record ServingModel(ServingCard card, byte[] onnx) {}

  /**
   * The model an event announces: the student when there is one (unless {@code which} says otherwise), its card
   * and ONNX file fetched and checked against the event's sha256 and size, and the card's own hash of the ONNX file.
   */
  public static ServingModel fromEvent(String eventJson, String which) throws IOException {
    JsonDocument event = JsonDocument.parse("ModelFinished event", eventJson);
    String model = which != null ? which : event.has("student") ? "student" : "teacher";
    if (!model.equals("student") && !model.equals("teacher")) {
      throw new IllegalArgumentException("--model must be student or teacher, was '" + model + "'");
    }
    if (!event.has(model)) {
      throw new IOException("the event of job " + (event.has("jobId") ? event.string("jobId") : "?") + " has no " + model);
    }
    Map<String, JsonDocument> artifacts = new LinkedHashMap<>();
    JsonDocument finished = event.object(model);
    if (finished.has("artifacts")) {
      for (JsonDocument a : finished.objects("artifacts")) {
        artifacts.put(a.string("format"), a.object("file"));
      }
    }
    for (String format : List.of("card", "onnx")) {
      if (!artifacts.containsKey(format)) {
        throw new IOException("the event's " + model + " lists no '" + format + "' artifact (artifacts: "
            + artifacts.keySet() + "); was it finished by a fleet older than the serving formats?");
      }
    }
    ServingCard card = ServingCard.parse(new String(download(artifacts.get("card")), StandardCharsets.UTF_8));
    JsonDocument onnxRef = artifacts.get("onnx");
    if (!onnxRef.string("sha256").equals(card.onnxSha256())) {
      throw new IOException("the card's ONNX sha256 " + card.onnxSha256() + " is not the event's "
          + onnxRef.string("sha256"));
    }
    return new ServingModel(card, download(onnxRef));
  }

  /**
   * The bytes of a file the event names ({@code BlobRef} in protobuf's JSON), checked against its sha256 and size. An
   * {@code s3://} file is fetched through its presigned HTTPS URL (the fleet's FLEET_PRESIGN_SECONDS): no credentials.
   */
  static byte[] download(JsonDocument blobRef) throws IOException {
    String uri = blobRef.string("uri");
    String presigned = blobRef.has("presignedUrl") ? blobRef.string("presignedUrl") : "";
    if (uri.startsWith("s3://") && presigned.isEmpty()) {
      throw new IOException("cannot fetch " + uri + ": this example reads file: and http(s): URIs, or s3:// ones that "
          + "carry a presigned URL (set FLEET_PRESIGN_SECONDS on the fleet)");
    }
    return VerifiedDownload.fetch(presigned.isEmpty() ? uri : presigned, blobRef.string("sha256"),
        blobRef.has("sizeBytes") ? blobRef.integer("sizeBytes") : -1);
  }

  /** The model a card describes; its ONNX file lies beside it (the card's files.onnx.path) and must hash as stated. */
  public static ServingModel fromCard(String cardUri) throws IOException {
    URI uri = cardUri.contains(":") && !cardUri.startsWith("/") ? URI.create(cardUri) : Path.of(cardUri).toAbsolutePath().toUri();
    ServingCard card = ServingCard.parse(new String(VerifiedDownload.read(uri.toString()), StandardCharsets.UTF_8));
    String onnxUri = uri.resolve(card.onnxPath()).toString();
    return new ServingModel(card, VerifiedDownload.fetch(onnxUri, card.onnxSha256(), card.onnxSizeBytes()));
  }

  /** Classifies {@code image} (any size) with ONNX Runtime. */
  public static Prediction classify(ServingModel model, BufferedImage image) throws IOException {
    ServingCard card = model.card();
    float[] input = CardTransform.apply(image, card);
    float[] logits;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(model.onnx(), new OrtSession.SessionOptions());
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {1, 3, card.height(), card.width()});
        OrtSession.Result r = session.run(Map.of(session.getInputNames().iterator().next(), x))) {
      logits = ((float[][]) r.get(0).getValue())[0];
    } catch (OrtException e) {
      throw new IOException("ONNX Runtime could not run the model: " + e.getMessage(), e);
    }
    if (logits.length != card.classNames().size()) {
      throw new IOException("the model gives " + logits.length + " scores but the card names "
          + card.classNames().size() + " classes");
    }
    double[] p = softmax(logits);
    int best = 0;
    for (int c = 1; c < p.length; c++) {
      best = p[c] > p[best] ? c : best;
    }
    return new Prediction(card.job(), card.model(), best, card.classNames().get(best), p);
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

  /** A JPEG or PNG file. */
  static BufferedImage readImage(Path file) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(file)));
    if (img == null) {
      throw new IOException(file + " is not a readable PNG or JPEG image");
    }
    return img;
  }

  /** The event of {@code job} (the first when null) in a file of one or more events, one JSON object per line. */
  static String eventOf(Path file, String job) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8).strip();
    List<String> events = text.startsWith("{") && text.indexOf("\n{") < 0 ? List.of(text)
        : text.lines().filter(l -> !l.isBlank()).toList();
    for (String e : events) {
      JsonDocument d = JsonDocument.parse("ModelFinished event in " + file, e);
      if (job == null || (d.has("jobId") && job.equals(d.string("jobId")))) {
        return e;
      }
    }
    throw new IOException("no finished-model event" + (job == null ? "" : " for job " + job) + " in " + file);
  }

  /** The command line, minus printing: returns the prediction or throws naming the problem. */
  public static Prediction run(String... args) throws IOException {
    Map<String, String> o = options(args);
    if (!o.containsKey("--image")) {
      throw new IllegalArgumentException("no image: pass --image FILE (PNG or JPEG, any size)");
    }
    ServingModel model;
    if (o.containsKey("--event")) {
      model = fromEvent(eventOf(Path.of(o.get("--event")), o.get("--job")), o.get("--model"));
    } else if (o.containsKey("--card")) {
      model = fromCard(o.get("--card"));
    } else {
      throw new IllegalArgumentException("no model: pass --event EVENT.json (a ModelFinished event) or --card model.json");
    }
    return classify(model, readImage(Path.of(o.get("--image"))));
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    List<String> known = List.of("--event", "--job", "--model", "--card", "--image");
    for (int i = 0; i < args.length; i++) {
      if (!known.contains(args[i])) {
        throw new IllegalArgumentException("unknown option '" + args[i] + "'; known: " + known);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      o.put(args[i], args[++i]);
    }
    return o;
  }

  public static void main(String[] args) {
    try {
      System.out.println(run(args).toJson());
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("model-consumer: " + e.getMessage());
      System.exit(2);
    }
  }
}
