package io.tunefleet.ml.model;

import ai.djl.Model;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the weights of a TorchScript export of a torchvision ResNet ({@code torch.jit.script(model).save(f)})
 * by their torchvision names, and infers its architecture from their shapes. The weights are copied into
 * the fleet's own {@link ResNet} — so freezing, parameter groups, diagnostics and the oneDNN-safe
 * shortcut apply to imported models too.
 *
 * <p>DJL exposes a TorchScript module's parameters but not its buffers, so BatchNorm running statistics
 * are not imported: they start at mean 0 / variance 1 and are re-estimated from the job's data in the
 * first training epoch (BatchNorm keeps updating them in training mode, frozen or not).
 */
public final class TorchScriptImport {
  private TorchScriptImport() {}

  /** The export's parameters by torchvision name, copied into {@code manager}. */
  public static Map<String, NDArray> weights(Path file, NDManager manager) throws IOException {
    String name = file.getFileName().toString();
    if (name.endsWith(".pt")) {
      name = name.substring(0, name.length() - 3);
    }
    try (Model model = Model.newInstance("torchscript-import")) {
      model.load(file.getParent(), name, Map.of("trainParam", "true"));
      Map<String, NDArray> weights = new LinkedHashMap<>();
      for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
        NDArray copy = p.getValue().getArray().duplicate();
        copy.attach(manager);
        weights.put(p.getKey(), copy);
      }
      return weights;
    } catch (MalformedModelException | RuntimeException e) {
      throw new IOException("not a loadable TorchScript file: " + e.getMessage(), e);
    }
  }

  /** The torchvision ResNet these weights belong to (head and classes left for the caller to set). */
  public static Architecture architecture(Map<String, Shape> shapes) {
    Shape conv1 = shapes.get("conv1.weight");
    if (conv1 == null || !shapes.containsKey("layer1.0.conv1.weight")) {
      throw new IllegalArgumentException("not a torchvision ResNet: no conv1.weight / layer1.0.conv1.weight parameters");
    }
    Map<Integer, Integer> blocks = new TreeMap<>();
    for (String n : shapes.keySet()) {
      if (n.startsWith("layer")) {
        int stage = n.charAt(5) - '0';
        int block = Integer.parseInt(n.substring(7, n.indexOf('.', 7)));
        blocks.merge(stage, block + 1, Math::max);
      }
    }
    if (blocks.size() != 4) {
      throw new IllegalArgumentException("not a torchvision ResNet: stages " + blocks.keySet());
    }
    boolean bottleneck = shapes.containsKey("layer1.0.conv3.weight");
    Architecture.Builder a = Architecture.newBuilder().setFamily("resnet").addAllBlocks(blocks.values())
        .setBottleneck(bottleneck).setBaseWidth((int) conv1.get(0)).setStem(conv1.get(2) == 7 ? "imagenet" : "small")
        .setInputChannels((int) conv1.get(1)).setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.LINEAR));
    String family = switch (a.getBlocksList().toString() + bottleneck) {
      case "[1, 1, 1, 1]false" -> "resnet10";
      case "[2, 2, 2, 2]false" -> "resnet18";
      case "[3, 4, 6, 3]false" -> "resnet34";
      case "[3, 4, 6, 3]true" -> "resnet50";
      case "[3, 4, 23, 3]true" -> "resnet101";
      default -> "resnet";
    };
    return a.setFamily(family).build();
  }

  public static Map<String, Shape> shapes(Map<String, NDArray> weights) {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    weights.forEach((k, v) -> shapes.put(k, v.getShape()));
    return shapes;
  }
}
