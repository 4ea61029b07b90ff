package io.tunefleet.ml.model;

import ai.djl.ndarray.types.Shape;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The layout of a torchvision ResNet's {@code state_dict}: the architecture its names and shapes describe, and
 * every key, with its shape, that an architecture has. Shared by the TorchScript and safetensors imports, and
 * engine-free so that a request can be checked at acceptance without loading a tensor.
 */
public final class TorchvisionStateDict {
  private static final Pattern BLOCK = Pattern.compile("layer(\\d+)\\.(\\d+)\\..+");
  private static final String[] BATCH_NORM = {"weight", "bias", "running_mean", "running_var"};

  private TorchvisionStateDict() {}

  /**
   * The torchvision ResNet these tensors belong to, with its own linear head and classes when it has an
   * {@code fc}. Throws {@link IllegalArgumentException} saying why when the names are not a ResNet's.
   */
  public static Architecture architecture(Map<String, Shape> shapes) {
    Shape conv1 = shapes.get("conv1.weight");
    if (conv1 == null || !shapes.containsKey("layer1.0.conv1.weight")) {
      boolean wrapped = !shapes.isEmpty() && shapes.keySet().stream().allMatch(k -> k.startsWith("module."));
      throw new IllegalArgumentException("not a torchvision ResNet: it has no conv1.weight / layer1.0.conv1.weight"
          + (wrapped ? " (every name starts with 'module.', as a DataParallel model's do: save model.module.state_dict())"
              : " (names: " + Listing.of(new ArrayList<>(shapes.keySet()), 5) + ")"));
    }
    if (conv1.dimension() != 4 || conv1.get(2) != conv1.get(3) || (conv1.get(2) != 7 && conv1.get(2) != 3)) {
      throw new IllegalArgumentException("not a torchvision ResNet: conv1.weight has shape " + conv1
          + ", expected (width, channels, 7, 7) or (width, channels, 3, 3)");
    }
    Map<Integer, Integer> blocks = new TreeMap<>();
    for (String n : shapes.keySet()) {
      Matcher m = BLOCK.matcher(n);
      if (m.matches()) {
        blocks.merge(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)) + 1, Math::max);
      }
    }
    if (!blocks.keySet().equals(java.util.Set.of(1, 2, 3, 4))) {
      throw new IllegalArgumentException("not a torchvision ResNet: it has stages " + blocks.keySet() + ", expected layer1..layer4");
    }
    boolean bottleneck = shapes.containsKey("layer1.0.conv3.weight");
    Architecture.Builder a = Architecture.newBuilder().setFamily("resnet").addAllBlocks(blocks.values())
        .setBottleneck(bottleneck).setBaseWidth((int) conv1.get(0)).setStem(conv1.get(2) == 7 ? "imagenet" : "small")
        .setInputChannels((int) conv1.get(1)).setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.LINEAR));
    Shape fc = shapes.get("fc.weight");
    if (fc != null && fc.dimension() == 2) {
      a.setNumClasses((int) fc.get(0));
    }
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

  /** Every backbone key of {@code a} (no {@code fc}) with its shape, in torchvision's order. */
  public static Map<String, Shape> backbone(Architecture a) {
    Map<String, Shape> out = new LinkedHashMap<>();
    long w = a.getBaseWidth();
    long k = "imagenet".equals(a.getStem()) ? 7 : 3;
    out.put("conv1.weight", new Shape(w, a.getInputChannels(), k, k));
    batchNorm(out, "bn1", w);
    long in = w;
    for (int i = 0; i < 4; i++) {
      long width = w << i;
      long planes = a.getBottleneck() ? width * 4 : width;
      for (int b = 0; b < a.getBlocks(i); b++) {
        String p = "layer" + (i + 1) + "." + b + ".";
        if (a.getBottleneck()) {
          out.put(p + "conv1.weight", new Shape(width, in, 1, 1));
          batchNorm(out, p + "bn1", width);
          out.put(p + "conv2.weight", new Shape(width, width, 3, 3));
          batchNorm(out, p + "bn2", width);
          out.put(p + "conv3.weight", new Shape(planes, width, 1, 1));
          batchNorm(out, p + "bn3", planes);
        } else {
          out.put(p + "conv1.weight", new Shape(width, in, 3, 3));
          batchNorm(out, p + "bn1", width);
          out.put(p + "conv2.weight", new Shape(width, width, 3, 3));
          batchNorm(out, p + "bn2", width);
        }
        if ((b == 0 && i > 0) || in != planes) {
          out.put(p + "downsample.0.weight", new Shape(planes, in, 1, 1));
          batchNorm(out, p + "downsample.1", planes);
        }
        in = planes;
      }
    }
    return out;
  }

  private static void batchNorm(Map<String, Shape> out, String name, long channels) {
    for (String t : BATCH_NORM) {
      out.put(name + "." + t, new Shape(channels));
    }
  }

  /**
   * What keeps {@code shapes} from being the state_dict of {@code a}'s backbone: missing keys, keys of another
   * shape, and keys a torchvision ResNet does not have ({@code num_batches_tracked} and anything under {@code fc.}
   * are allowed; the head is replaced, but a linear {@code fc.weight} must take the backbone's features). Empty
   * when they fit.
   */
  public static List<String> problems(Map<String, Shape> shapes, Architecture a) {
    Map<String, Shape> expected = backbone(a);
    List<String> missing = new ArrayList<>();
    List<String> misShaped = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    expected.forEach((name, shape) -> {
      Shape actual = shapes.get(name);
      if (actual == null) {
        missing.add(name);
      } else if (!actual.equals(shape)) {
        misShaped.add(name + " is " + actual + ", expected " + shape);
      }
    });
    long features = a.getBaseWidth() * 8L * (a.getBottleneck() ? 4 : 1);
    Shape fc = shapes.get("fc.weight");
    if (fc != null && (fc.dimension() != 2 || fc.get(1) != features)) {
      misShaped.add("fc.weight is " + fc + ", expected (classes, " + features + ")");
    } else if (fc != null && shapes.containsKey("fc.bias") && !shapes.get("fc.bias").equals(new Shape(fc.get(0)))) {
      misShaped.add("fc.bias is " + shapes.get("fc.bias") + ", expected (" + fc.get(0) + ")");
    }
    for (String name : shapes.keySet()) {
      // the head is replaced, whatever it was (a fine-tuned model's fc may be a Sequential)
      if (!expected.containsKey(name) && !name.startsWith("fc.") && !name.endsWith(".num_batches_tracked")) {
        unexpected.add(name);
      }
    }
    List<String> problems = new ArrayList<>();
    if (!missing.isEmpty()) {
      problems.add(missing.size() + " missing: " + Listing.of(missing, 8));
    }
    if (!misShaped.isEmpty()) {
      problems.add(misShaped.size() + " mis-shaped: " + Listing.of(misShaped, 8));
    }
    if (!unexpected.isEmpty()) {
      problems.add(unexpected.size() + " not in a torchvision " + ResNets.name(ResNets.resolve(a)) + ": "
          + Listing.of(unexpected, 8));
    }
    return problems;
  }
}
