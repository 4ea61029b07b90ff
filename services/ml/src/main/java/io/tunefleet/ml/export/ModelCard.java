package io.tunefleet.ml.export;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A finished model's card ({@code model.json}): what a team serving it needs without the fleet — architecture,
 * classes in label order, input size and tensor names, normalisation, evaluation transform, validation metrics,
 * lineage, and the name, size and sha256 of each file. The fields are listed in the README.
 */
public final class ModelCard {
  /** The card's schema name and version, its first field. */
  public static final String SCHEMA = "tunefleet.model-card/1";

  private ModelCard() {}

  /** One file the card describes: its path relative to the card, its size and sha256. */
  public record FileEntry(String path, long sizeBytes, String sha256) {}

  /** What the card says, gathered by the caller. */
  public record Facts(String jobId, String name, Architecture architecture, long parameterCount, List<String> classNames,
      Normalization normalization, EvalTransform transform, int epoch, Metrics metrics, Lineage lineage,
      Map<String, FileEntry> files) {}

  /** The card as pretty-printed UTF-8 JSON. */
  public static byte[] json(Facts f) {
    Architecture a = ResNets.resolve(f.architecture());
    JsonObject card = new JsonObject();
    card.addProperty("schema", SCHEMA);
    card.addProperty("job_id", f.jobId());
    card.addProperty("model", f.name());
    card.addProperty("created_at", Instant.now().toString());

    JsonObject arch = new JsonObject();
    arch.addProperty("name", ResNets.name(a));
    arch.addProperty("family", a.getFamily());
    arch.add("blocks", ints(a.getBlocksList().stream().mapToInt(Integer::intValue).toArray()));
    arch.addProperty("bottleneck", a.getBottleneck());
    arch.addProperty("base_width", a.getBaseWidth());
    arch.addProperty("stem", a.getStem());
    JsonObject head = new JsonObject();
    head.addProperty("kind", a.getHead().getKind() == HeadSpec.Kind.MLP ? "mlp" : "linear");
    if (a.getHead().getKind() == HeadSpec.Kind.MLP) {
      head.addProperty("hidden", a.getHead().getHidden() > 0 ? a.getHead().getHidden() : 256);
      head.addProperty("dropout", a.getHead().getDropout() > 0 ? a.getHead().getDropout() : 0.5);
    }
    arch.add("head", head);
    arch.addProperty("parameter_count", f.parameterCount());
    String torchvision = TorchvisionNames.constructor(a);
    if (torchvision != null) {
      arch.addProperty("torchvision", "torchvision.models." + torchvision + "(num_classes=" + a.getNumClasses() + ")");
    }
    card.add("architecture", arch);

    card.addProperty("num_classes", a.getNumClasses());
    JsonArray names = new JsonArray();
    f.classNames().forEach(names::add);
    card.add("class_names", names);

    JsonObject input = new JsonObject();
    input.addProperty("name", OnnxExport.INPUT);
    input.addProperty("layout", "NCHW");
    input.addProperty("dtype", "float32");
    input.addProperty("channels", 3);
    input.addProperty("color", "RGB; a grayscale image is three equal channels");
    input.addProperty("height", f.transform().height());
    input.addProperty("width", f.transform().width());
    card.add("input", input);
    JsonObject output = new JsonObject();
    output.addProperty("name", OnnxExport.OUTPUT);
    output.addProperty("meaning", "unnormalised class scores in label order (softmax gives probabilities)");
    card.add("output", output);

    JsonObject norm = new JsonObject();
    norm.addProperty("id", f.normalization().id());
    norm.addProperty("pixel_scale", 255);
    norm.add("mean", floats(f.normalization().mean()));
    norm.add("std", floats(f.normalization().std()));
    norm.addProperty("formula", "input[c] = (pixel[c] / pixel_scale - mean[c]) / std[c]");
    card.add("normalization", norm);

    JsonObject transform = new JsonObject();
    transform.addProperty("kind", f.transform().kind());
    if (EvalTransform.RESIZE_CENTER_CROP.equals(f.transform().kind())) {
      transform.addProperty("resize_shorter_side", f.transform().resizeShorterSide());
      transform.add("center_crop", ints(f.transform().height(), f.transform().width()));
      transform.addProperty("interpolation", "bilinear");
      transform.addProperty("torchvision", "Resize(" + f.transform().resizeShorterSide() + "), CenterCrop("
          + f.transform().height() + ")");
    } else {
      transform.add("size", ints(f.transform().height(), f.transform().width()));
      transform.addProperty("other_sizes", "resize the whole image to " + f.transform().height() + "x"
          + f.transform().width() + " (bilinear): the training images were used whole at that size");
      transform.addProperty("interpolation", "bilinear");
    }
    card.add("eval_transform", transform);

    Metrics m = f.metrics();
    JsonObject metrics = new JsonObject();
    metrics.addProperty("split", "validation");
    metrics.addProperty("epoch", f.epoch() + 1);
    metrics.addProperty("accuracy", m.getAccuracy());
    metrics.addProperty("macro_f1", m.getMacroF1());
    metrics.addProperty("loss", m.getLoss());
    metrics.addProperty("samples", m.getSamples());
    JsonArray perClass = new JsonArray();
    for (ClassMetrics c : m.getPerClassList()) {
      JsonObject o = new JsonObject();
      o.addProperty("label", c.getLabel());
      o.addProperty("name", c.getName());
      o.addProperty("precision", c.getPrecision());
      o.addProperty("recall", c.getRecall());
      o.addProperty("f1", c.getF1());
      o.addProperty("support", c.getSupport());
      perClass.add(o);
    }
    metrics.add("per_class", perClass);
    card.add("metrics", metrics);

    JsonObject lineage = new JsonObject();
    lineage.addProperty("request", f.lineage().getRequest().getUri());
    lineage.addProperty("request_sha256", f.lineage().getRequest().getSha256());
    lineage.addProperty("base_model", f.lineage().getBaseModel());
    lineage.addProperty("dataset_sha256", f.lineage().getDatasetSha256());
    card.add("lineage", lineage);

    JsonObject files = new JsonObject();
    f.files().forEach((format, e) -> {
      JsonObject o = new JsonObject();
      o.addProperty("path", e.path());
      o.addProperty("size_bytes", e.sizeBytes());
      o.addProperty("sha256", e.sha256());
      files.add(format, o);
    });
    card.add("files", files);
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(card)
        .getBytes(StandardCharsets.UTF_8);
  }

  private static JsonArray ints(int... values) {
    JsonArray a = new JsonArray();
    for (int v : values) {
      a.add(v);
    }
    return a;
  }

  private static JsonArray floats(float... values) {
    JsonArray a = new JsonArray();
    for (float v : values) {
      a.add(Double.parseDouble(Float.toString(v))); // 0.485, not 0.48500001430511475
    }
    return a;
  }
}
