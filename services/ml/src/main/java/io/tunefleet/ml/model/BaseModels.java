package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The pretrained network a job starts from — a fleet model file ({@code base_model.checkpoint}), a TorchScript
 * export ({@code base_model.torchscript}) or a safetensors state_dict ({@code base_model.safetensors}) of a
 * torchvision ResNet — read into what training needs, the same way for all three: the architecture, the input
 * normalisation its features were learnt with, and its weights by the fleet's parameter names, BatchNorm
 * running statistics included (a pretrained network's features are wrong without them).
 */
public final class BaseModels {
  /** Where a base model comes from, and the request field that names it. */
  public enum Source {
    CHECKPOINT("base_model.checkpoint"),
    TORCHSCRIPT("base_model.torchscript"),
    SAFETENSORS("base_model.safetensors");

    private final String field;

    Source(String field) {
      this.field = field;
    }

    /** The request field, as validation errors name it. */
    public String field() {
      return field;
    }

    String value(BaseModel spec) {
      return switch (this) {
        case CHECKPOINT -> spec.getCheckpoint();
        case TORCHSCRIPT -> spec.getTorchscript();
        case SAFETENSORS -> spec.getSafetensors();
      };
    }
  }

  /**
   * A base model as far as acceptance needs it, read without its tensors: the backbone's {@code architecture}
   * (with the base's own head and classes; a job replaces them) and the {@code normalization} its inputs had.
   */
  public record Description(Source source, Path file, Architecture architecture, Normalization normalization) {}

  /** A loaded base: its description and its weights by fleet parameter name (floating point as float32). */
  public record Base(Description description, Map<String, NDArray> weights) {}

  private BaseModels() {}

  /** The field {@code spec} names its base model with; null for a random initialisation. */
  public static Source source(BaseModel spec) {
    List<Source> set = sourcesSet(spec);
    return set.isEmpty() ? null : set.get(0);
  }

  private static List<Source> sourcesSet(BaseModel spec) {
    List<Source> set = new ArrayList<>();
    for (Source s : Source.values()) {
      if (!s.value(spec).isEmpty()) {
        set.add(s);
      }
    }
    return set;
  }

  /**
   * Checks the base model {@code spec} names, reading headers only: for an import, that the file is a
   * torchvision ResNet with every key at its shape. Returns null, after adding a problem for the field, when it
   * is not usable, and null without a problem when the job starts from a random initialisation.
   */
  public static Description describe(BaseModel spec, PathPolicy paths, List<FieldProblem> problems) {
    List<Source> set = sourcesSet(spec);
    if (set.size() > 1) {
      problems.add(new FieldProblem("base_model", "set at most one of checkpoint, torchscript and safetensors; "
          + set.stream().map(s -> s.field().substring("base_model.".length())).collect(Collectors.joining(" and ")) + " are set"));
      return null;
    }
    if (set.isEmpty()) {
      return null;
    }
    Source source = set.get(0);
    Path file = paths.resolve(source.field(), source.value(spec), true, problems);
    if (file == null) {
      return null;
    }
    try {
      return source == Source.CHECKPOINT ? fleetModel(file, ModelFile.readManifest(file)) : imported(source, file, open(source, file));
    } catch (IOException | IllegalArgumentException e) {
      problems.add(new FieldProblem(source.field(), problem(source, e)));
      return null;
    }
  }

  /**
   * Loads the base model {@code spec} names into {@code manager}; null when the job starts from a random
   * initialisation. The exception names the field and what is wrong, as {@link #describe} does.
   */
  public static Base load(BaseModel spec, PathPolicy paths, NDManager manager) throws IOException {
    List<FieldProblem> problems = new ArrayList<>();
    Description d = describe(spec, paths, problems);
    if (!problems.isEmpty()) {
      throw new IOException(problems.stream().map(FieldProblem::toString).collect(Collectors.joining("; ")));
    }
    if (d == null) {
      return null;
    }
    try {
      if (d.source() == Source.CHECKPOINT) {
        return new Base(d, ModelFile.decode(Files.readAllBytes(d.file()), manager).weights());
      }
      Map<String, Shape> backbone = TorchvisionStateDict.backbone(d.architecture());
      List<String> wanted = new ArrayList<>(backbone.keySet());
      wanted.add("fc.weight");
      wanted.add("fc.bias");
      Map<String, NDArray> weights = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : open(d.source(), d.file()).read(manager, wanted).entrySet()) {
        NDArray a = e.getValue();
        // half-precision and float64 exports train as the fleet's float32, like torch's load_state_dict copies them
        NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
        f.setName(e.getKey());
        weights.put(e.getKey(), f);
      }
      return new Base(d, weights);
    } catch (IOException | RuntimeException e) {
      throw new IOException(d.source().field() + ": " + problem(d.source(), e), e);
    }
  }

  /** How the finished model's lineage names its base model. */
  public static String lineage(BaseModel spec) {
    Source s = source(spec);
    if (s == null) {
      return "random initialisation (" + ResNets.name(ResNets.resolve(spec.getArchitecture())) + ")";
    }
    return switch (s) {
      case CHECKPOINT -> spec.getCheckpoint();
      case TORCHSCRIPT -> "TorchScript " + spec.getTorchscript();
      case SAFETENSORS -> "safetensors " + spec.getSafetensors();
    };
  }

  private static StateDictFile open(Source source, Path file) throws IOException {
    return source == Source.SAFETENSORS ? SafetensorsFile.open(file) : TorchArchive.open(file);
  }

  private static Description fleetModel(Path file, ModelManifest manifest) {
    return new Description(Source.CHECKPOINT, file, manifest.getArchitecture(), Normalization.fromId(manifest.getNormalization()));
  }

  /** A torchvision import: its architecture from the shapes, then every backbone key checked against it. */
  private static Description imported(Source source, Path file, StateDictFile state) {
    Map<String, Shape> shapes = state.shapes();
    Architecture a = TorchvisionStateDict.architecture(shapes);
    List<String> problems = TorchvisionStateDict.problems(shapes, a);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("not the state_dict of a torchvision " + ResNets.name(ResNets.resolve(a))
          + ": " + String.join("; ", problems));
    }
    // torchvision's pretrained weights were all trained on ImageNet with these statistics
    return new Description(source, file, a, Normalization.IMAGENET);
  }

  private static String problem(Source source, Exception e) {
    String what = switch (source) {
      case CHECKPOINT -> "cannot read a fleet model from it: ";
      case TORCHSCRIPT -> e instanceof IllegalArgumentException ? "" : "cannot read a TorchScript export from it: ";
      case SAFETENSORS -> e instanceof IllegalArgumentException ? "" : "cannot read a safetensors file from it: ";
    };
    return what + e.getMessage();
  }
}
