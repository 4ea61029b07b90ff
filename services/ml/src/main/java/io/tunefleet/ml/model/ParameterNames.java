package io.tunefleet.ml.model;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * torchvision-style parameter names for a DJL block tree ({@code layer1.0.conv1.weight},
 * {@code bn1.running_mean}), so checkpoints, TorchScript imports and diagnostics share one naming.
 */
public final class ParameterNames {
  private ParameterNames() {}

  /** Every parameter of {@code block}, running statistics included, in a stable order. */
  public static Map<String, Parameter> of(Block block) {
    Map<String, Parameter> named = new LinkedHashMap<>();
    collect(block, "", named);
    return named;
  }

  private static void collect(Block block, String prefix, Map<String, Parameter> out) {
    for (Pair<String, Parameter> p : block.getDirectParameters()) {
      out.put(prefix + torchName(p.getKey()), p.getValue());
    }
    for (Pair<String, Block> child : block.getChildren()) {
      // DJL prefixes each child name with its two-digit position ("01conv1")
      String name = child.getKey().substring(2);
      collect(child.getValue(), prefix + name + ".", out);
    }
  }

  private static String torchName(String djlName) {
    return switch (djlName) {
      case "gamma" -> "weight";
      case "beta" -> "bias";
      case "runningMean" -> "running_mean";
      case "runningVar" -> "running_var";
      default -> djlName;
    };
  }

  /** True for BatchNorm running statistics, which are state, not trainable parameters. */
  public static boolean isRunningStat(Parameter p) {
    return p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR;
  }

  /** Parameters that learn (no running statistics), counted the way torchvision counts them. */
  public static long countTrainable(Block block) {
    long n = 0;
    for (Parameter p : of(block).values()) {
      if (!isRunningStat(p)) {
        n += p.getArray().getShape().size();
      }
    }
    return n;
  }
}
