package io.tunefleet.ml.export;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelManifest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A finished model in the formats serving stacks load: {@value #ONNX} ({@link OnnxExport}), {@value #SAFETENSORS}
 * ({@link SafetensorsExport}) and the card {@value #CARD} ({@link ModelCard}) that names and hashes them.
 */
public final class ModelExport {
  public static final String ONNX = "model.onnx";
  public static final String SAFETENSORS = "model.safetensors";
  public static final String CARD = "model.json";

  /** The three files' bytes, and how long the two weight files took to write (for the benchmarks). */
  public record Artifacts(byte[] onnx, byte[] safetensors, byte[] card, long exportNanos) {}

  /** What the card says that the model file does not: gathered by whoever finishes the model. */
  public record Context(String name, List<String> classNames, Metrics metrics, Lineage lineage, long parameterCount) {}

  private ModelExport() {}

  /**
   * Exports a fleet model file. Its manifest gives the architecture, input size, normalisation and epoch; the
   * evaluation transform is {@link EvalTransform#identity}, as the fleet trains on images used whole at their size.
   *
   * @param others files beside the card to list in it too (the fleet's own file as {@code tfm}), by format
   */
  public static Artifacts export(ModelFile.Contents model, Context context, Map<String, ModelCard.FileEntry> others) {
    ModelManifest m = model.manifest();
    if (m.getInputHeight() < 1 || m.getInputWidth() < 1) {
      throw new IllegalArgumentException("model file of " + context.name() + ": manifest.input_height/input_width "
          + "missing (" + m.getInputHeight() + "x" + m.getInputWidth() + "); the input size cannot be stated");
    }
    return export(model, context, EvalTransform.identity(m.getInputHeight(), m.getInputWidth()), others);
  }

  /** As {@link #export(ModelFile.Contents, Context, Map)} with an explicit evaluation transform. */
  public static Artifacts export(ModelFile.Contents model, Context context, EvalTransform transform,
      Map<String, ModelCard.FileEntry> others) {
    ModelManifest m = model.manifest();
    Architecture a = ResNets.resolve(m.getArchitecture());
    List<String> names = context.classNames();
    if (names.size() != a.getNumClasses()) {
      throw new IllegalArgumentException("class_names: " + names.size() + " names for a model of " + a.getNumClasses()
          + " classes");
    }
    Map<String, NDArray> weights = model.weights();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("architecture", ResNets.name(a));
    meta.put("class_names", new Gson().toJson(names));
    Normalization norm = Normalization.fromId(m.getNormalization());
    meta.put("normalization", norm.id());
    meta.put("card", CARD);
    long start = System.nanoTime();
    byte[] onnx = OnnxExport.export(a, transform.height(), transform.width(), weights, meta);
    byte[] safetensors = SafetensorsExport.export(weights, m.getGlobalStep(), meta);
    long nanos = System.nanoTime() - start;
    Map<String, ModelCard.FileEntry> files = new LinkedHashMap<>();
    files.put("onnx", new ModelCard.FileEntry(ONNX, onnx.length, sha256(onnx)));
    files.put("safetensors", new ModelCard.FileEntry(SAFETENSORS, safetensors.length, sha256(safetensors)));
    files.putAll(others);
    byte[] card = ModelCard.json(new ModelCard.Facts(m.getJobId(), context.name(), a, context.parameterCount(), names,
        norm, transform, m.getEpoch(), context.metrics(), context.lineage(), files));
    return new Artifacts(onnx, safetensors, card, nanos);
  }

  /** Lowercase hex sha256, as BlobRef carries it. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
