package io.tunefleet.ml.export;

import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.List;
import java.util.Map;

/** Which torchvision constructor builds exactly a fleet architecture, so model.safetensors loads with strict=True. */
final class TorchvisionNames {
  private static final Map<String, List<Integer>> STANDARD = Map.of(
      "resnet18", List.of(2, 2, 2, 2), "resnet34", List.of(3, 4, 6, 3),
      "resnet50", List.of(3, 4, 6, 3), "resnet101", List.of(3, 4, 23, 3));

  private TorchvisionNames() {}

  /** {@code resnet18} … {@code resnet101} for torchvision's own shapes (ImageNet stem, width 64, linear head), else null. */
  static String constructor(Architecture resolved) {
    for (Map.Entry<String, List<Integer>> e : STANDARD.entrySet()) {
      boolean bottleneck = e.getKey().equals("resnet50") || e.getKey().equals("resnet101");
      if (resolved.getBlocksList().equals(e.getValue()) && resolved.getBottleneck() == bottleneck
          && resolved.getBaseWidth() == 64 && "imagenet".equals(resolved.getStem())
          && resolved.getHead().getKind() == HeadSpec.Kind.LINEAR) {
        return e.getKey();
      }
    }
    return null;
  }
}
