package io.tunefleet.ml.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResNetsTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  private static Architecture family(String name, int classes) {
    return ResNets.resolve(Architecture.newBuilder().setFamily(name).setNumClasses(classes).build());
  }

  @Test
  void resnet18And50HaveTorchvisionsParameterCounts() {
    // torchvision: sum(p.numel() for p in resnet18().parameters()) == 11,689,512; resnet50: 25,557,032
    assertEquals(11_689_512L, ResNets.parameterCount(family("resnet18", 1000)));
    assertEquals(21_797_672L, ResNets.parameterCount(family("resnet34", 1000)));
    assertEquals(25_557_032L, ResNets.parameterCount(family("resnet50", 1000)));
  }

  @Test
  void builtNetworksHaveTheComputedCountAndTorchvisionNames() {
    try (NDManager m = NDManager.newBaseManager()) {
      Architecture r18 = family("resnet18", 1000);
      ResNet net = ResNets.build(r18, m, 64);
      assertEquals(ResNets.parameterCount(r18), ParameterNames.countTrainable(net));
      Map<String, ai.djl.nn.Parameter> names = ParameterNames.of(net);
      assertTrue(names.containsKey("conv1.weight"));
      assertTrue(names.containsKey("bn1.running_mean"));
      assertTrue(names.containsKey("layer2.0.downsample.0.weight"));
      assertTrue(names.containsKey("layer4.1.bn2.bias"));
      assertTrue(names.containsKey("fc.weight"));
      Architecture mlp = ResNets.resolve(Architecture.newBuilder().setFamily("resnet").addBlocks(1).addBlocks(2)
          .addBlocks(1).addBlocks(1).setBaseWidth(8).setStem("small").setNumClasses(7)
          .setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP).setHidden(32)).build());
      ResNet mlpNet = ResNets.build(mlp, m, 28);
      assertEquals(ResNets.parameterCount(mlp), ParameterNames.countTrainable(mlpNet));
      assertTrue(ParameterNames.of(mlpNet).keySet().containsAll(java.util.List.of("fc.0.weight", "fc.1.running_var", "fc.4.bias")));
      Architecture r50 = family("resnet50", 10);
      assertEquals(ResNets.parameterCount(r50), ParameterNames.countTrainable(ResNets.build(r50, m, 64)));
    }
  }

  @Test
  void defaultStudentIsAtLeastFourTimesSmaller() {
    for (String f : new String[] {"resnet10", "resnet18", "resnet50"}) {
      Architecture teacher = family(f, 10);
      Architecture student = ResNets.defaultStudent(teacher, 4.0);
      double ratio = (double) ResNets.parameterCount(teacher) / ResNets.parameterCount(student);
      assertTrue(ratio >= 4.0, f + ": " + ratio);
      assertTrue(ratio < 6.0, f + " student is needlessly small: " + ratio);
    }
  }
}
