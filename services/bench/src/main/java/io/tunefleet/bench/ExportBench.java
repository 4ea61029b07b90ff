package io.tunefleet.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.ml.export.ModelExport;
import io.tunefleet.ml.export.OnnxExport;
import io.tunefleet.ml.export.SafetensorsExport;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelManifest;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Time to export a finished model for serving (ONNX + safetensors, and the card) and the files' sizes, for the demo
 * model and for a ResNet-50 (ImageNet stem, 1000 classes, 224 px): the work the distiller adds per finished model.
 *
 * <pre>./fleet bench-export [--model DEMO_MODEL_FILE] [--rounds 5]</pre>
 */
@Command(name = "bench-export", description = "Time to export a finished model (ONNX, safetensors, card) and the files' sizes:"
    + " the demo model and a ResNet-50.")
final class ExportBench implements Callable<Integer> {
  @Option(names = "--model", description = "The fleet model file to export (default ${DEFAULT-VALUE})")
  Path demo = Path.of("datasets/models/fmnist-even-resnet10-w16.model");

  @Option(names = "--rounds", description = "Timed exports per model; the median is reported (default ${DEFAULT-VALUE})")
  int rounds = 5;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--rounds must be at least 1, was " + rounds);
    }
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      byte[] file = Files.readAllBytes(demo);
      ModelFile.Contents c = ModelFile.decode(file, m);
      ModelManifest manifest = c.manifest();
      if (manifest.getInputHeight() == 0) {
        manifest = manifest.toBuilder().setInputHeight(28).setInputWidth(28).build(); // files from before the field
      }
      Map<String, NDArray> weights0 = new LinkedHashMap<>();
      // the demo file predates the linear head's torchvision name (fc.0.* then, fc.* now); the fleet only ever reads
      // its backbone, so it never mattered
      c.weights().forEach((k, v) -> weights0.put(k.startsWith("fc.0.") ? "fc." + k.substring(5) : k, v));
      report(demo.getFileName().toString(), new ModelFile.Contents(manifest, weights0, Map.of()), file.length, rounds);

      Architecture r50 = ResNets.resolve(Architecture.newBuilder().setFamily("resnet50").setNumClasses(1000).build());
      ResNet net = ResNets.build(r50, m, 224);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      ParameterNames.of(net).forEach((name, p) -> weights.put(name, p.getArray()));
      ModelManifest m50 = ModelManifest.newBuilder().setArchitecture(r50).setInputHeight(224).setInputWidth(224)
          .setNormalization("imagenet").build();
      int tfm = ModelFile.encode(m50, weights, Map.of()).length;
      report("resnet50 (ImageNet stem, 1000 classes, 224 px)", new ModelFile.Contents(m50, weights, Map.of()), tfm, rounds);
    }
    return 0;
  }

  private static void report(String what, ModelFile.Contents model, long tfmBytes, int rounds) {
    int classes = ResNets.resolve(model.manifest().getArchitecture()).getNumClasses();
    ModelExport.Context context = new ModelExport.Context("teacher",
        IntStream.range(0, classes).mapToObj(i -> "class " + i).toList(), Metrics.getDefaultInstance(),
        Lineage.getDefaultInstance(), 0);
    ModelExport.export(model, context, Map.of()); // warm-up
    double[] onnxMs = new double[rounds];
    double[] safetensorsMs = new double[rounds];
    double[] allMs = new double[rounds];
    ModelExport.Artifacts a = null;
    int h = model.manifest().getInputHeight();
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      OnnxExport.export(model.manifest().getArchitecture(), h, model.manifest().getInputWidth(), model.weights(), Map.of());
      long t1 = System.nanoTime();
      SafetensorsExport.export(model.weights(), 0, Map.of());
      long t2 = System.nanoTime();
      a = ModelExport.export(model, context, Map.of());
      long t3 = System.nanoTime();
      onnxMs[i] = (t1 - t0) / 1e6;
      safetensorsMs[i] = (t2 - t1) / 1e6;
      allMs[i] = (t3 - t2) / 1e6;
    }
    System.out.printf(Locale.ROOT, "%s: median of %d, ONNX %.1f ms, safetensors %.1f ms, all three files (with card and "
        + "sha256s) %.1f ms; sizes: model.onnx %,d B, model.safetensors %,d B, model.json %,d B, fleet file %,d B%n",
        what, rounds, median(onnxMs), median(safetensorsMs), median(allMs), a.onnx().length, a.safetensors().length,
        a.card().length, tfmBytes);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
