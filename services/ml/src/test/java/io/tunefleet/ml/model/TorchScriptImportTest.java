package io.tunefleet.ml.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.proto.v1.Architecture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TorchScript path against real exports of torchvision ResNets made by Debian's python3-torchvision
 * (scripts/export_torchvision_resnet.py): the fleet's ResNet with imported weights computes the same
 * logits as torchvision's, including ResNet-50's strided projection shortcuts.
 */
class TorchScriptImportTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  @TempDir Path dir;

  static boolean torchvisionAvailable() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torchvision").redirectErrorStream(true).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  static Path export(Path dir, String arch) throws Exception {
    Path script = Path.of("").toAbsolutePath();
    while (!Files.exists(script.resolve("scripts/export_torchvision_resnet.py"))) {
      script = script.getParent();
    }
    Path out = dir.resolve(arch + ".pt");
    Process p = new ProcessBuilder("/usr/bin/python3", script.resolve("scripts/export_torchvision_resnet.py").toString(),
        arch, out.toString(), "10", "3").inheritIO().start();
    assertEquals(0, p.waitFor(), "export failed");
    return out;
  }

  static double[] expectedLogits(Path export) throws Exception {
    String json = Files.readString(Path.of(export + ".check.json"));
    Matcher m = Pattern.compile("\"logits\": \\[([^\\]]*)\\]").matcher(json);
    m.find();
    String[] parts = m.group(1).split(",");
    double[] out = new double[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Double.parseDouble(parts[i].trim());
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50"})
  void importedWeightsComputeTheSameLogitsAsTorchvision(String arch) throws Exception {
    assumeTrue(torchvisionAvailable(), "Debian's python3-torchvision is not installed");
    Path export = export(dir, arch);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> weights = TorchScriptImport.weights(export, m);
      Architecture a = TorchScriptImport.architecture(TorchScriptImport.shapes(weights)).toBuilder().setNumClasses(10).build();
      assertEquals(arch, a.getFamily());
      assertEquals("imagenet", a.getStem());
      assertEquals(64, a.getBaseWidth());
      try (Classifier c = Classifier.of(ResNets.resolve(a), 64, weights, Device.cpu());
          NDManager scope = NDManager.newBaseManager()) {
        NDArray x = scope.linspace(-1f, 1f, 3 * 64 * 64).reshape(new Shape(1, 3, 64, 64));
        float[] logits = c.net().forward(new ParameterStore(scope, false), new NDList(x), false).singletonOrThrow().toFloatArray();
        double[] expected = expectedLogits(export);
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], logits[i], 1e-3 * Math.max(1, Math.abs(expected[i])), "logit " + i);
        }
      }
    }
  }

  @Test
  void inferenceOfTheArchitectureRejectsWhatIsNotAResNet() {
    Map<String, Shape> shapes = Map.of("encoder.weight", new Shape(4, 4));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> TorchScriptImport.architecture(shapes));
    assertEquals(List.of(1, 1, 1, 1), TorchScriptImport.architecture(Map.of("conv1.weight", new Shape(16, 3, 3, 3),
        "layer1.0.conv1.weight", new Shape(16, 16, 3, 3), "layer2.0.conv1.weight", new Shape(32, 16, 3, 3),
        "layer3.0.conv1.weight", new Shape(64, 32, 3, 3), "layer4.0.conv1.weight", new Shape(128, 64, 3, 3))).getBlocksList());
  }
}
