package io.tunefleet.examples;

import com.google.protobuf.Value;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the consumer needs from a model card ({@code model.json}): the classes in label order, the input size, the
 * normalisation, the evaluation transform and the ONNX file's path (relative to the card), size and sha256.
 */
public record ServingCard(String job, String model, List<String> classNames, int height, int width, double pixelScale,
    double[] mean, double[] std, String transform, int resizeShorterSide, String onnxPath, String onnxSha256,
    long onnxSizeBytes) {
  /** torchvision's Resize(round(size / 0.875)) + CenterCrop(size). */
  public static final String RESIZE_CENTER_CROP = "resize_center_crop";
  /** The training images were height x width and used whole. */
  public static final String IDENTITY = "identity";

  /** Reads a card, naming the first field that is missing or wrong. */
  public static ServingCard parse(String json) throws IOException {
    JsonDocument card = JsonDocument.parse("model card", json);
    String schema = card.string("schema");
    if (!schema.startsWith("tunefleet.model-card/")) {
      throw new IOException("model card: schema should be tunefleet.model-card/N, was '" + schema + "'");
    }
    List<String> names = new ArrayList<>();
    for (Value v : card.list("class_names")) {
      names.add(v.getStringValue());
    }
    long classes = card.integer("num_classes");
    if (names.size() != classes) {
      throw new IOException("model card: class_names has " + names.size() + " names but num_classes is " + classes);
    }
    JsonDocument input = card.object("input");
    int h = (int) input.integer("height");
    int w = (int) input.integer("width");
    if (h < 1 || w < 1) {
      throw new IOException("model card: input.height/width must be positive, was " + h + "x" + w);
    }
    JsonDocument norm = card.object("normalization");
    double[] mean = triple(norm, "mean");
    double[] std = triple(norm, "std");
    for (double s : std) {
      if (!(s > 0)) {
        throw new IOException("model card: normalization.std must be > 0, was " + s);
      }
    }
    double scale = norm.number("pixel_scale");
    JsonDocument t = card.object("eval_transform");
    String kind = t.string("kind");
    int resize = 0;
    if (kind.equals(RESIZE_CENTER_CROP)) {
      resize = (int) t.integer("resize_shorter_side");
      if (resize < Math.min(h, w)) {
        throw new IOException("model card: eval_transform.resize_shorter_side " + resize + " is smaller than the crop "
            + h + "x" + w);
      }
    } else if (!kind.equals(IDENTITY)) {
      throw new IOException("model card: eval_transform.kind must be " + RESIZE_CENTER_CROP + " or " + IDENTITY
          + ", was '" + kind + "'");
    }
    JsonDocument onnx = card.object("files").object("onnx");
    return new ServingCard(card.has("job_id") ? card.string("job_id") : "", card.has("model") ? card.string("model") : "",
        List.copyOf(names), h, w, scale, mean, std, kind, resize, onnx.string("path"), onnx.string("sha256"),
        onnx.integer("size_bytes"));
  }

  private static double[] triple(JsonDocument d, String field) throws IOException {
    List<Value> values = d.list(field);
    if (values.size() != 3) {
      throw new IOException("model card: normalization." + field + " needs 3 values (R, G, B), has " + values.size());
    }
    return values.stream().mapToDouble(Value::getNumberValue).toArray();
  }
}
