package io.tunefleet.ml.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.Tensors;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelManifest;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * model.safetensors of a standard architecture (ImageNet stem, width 64) loads into torchvision's own
 * {@code resnetNN(num_classes=k)} with {@code strict=True}, through examples/python/classify.py run by Debian's
 * python3-torchvision, and computes the fleet's logits within 1e-4; the script then classifies a JPEG.
 * Weights are random, BatchNorm statistics included, so a missed buffer or a transposed weight shows.
 */
class TorchvisionSafetensorsTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  static final int SIZE = 64;
  static final int CLASSES = 7;

  @TempDir Path dir;

  static boolean torchvisionAvailable() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torchvision, PIL").redirectErrorStream(true).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  static Path script() {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("examples/python/classify.py"))) {
      p = p.getParent();
    }
    return p.resolve("examples/python/classify.py");
  }

  static String python(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script().toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "classify.py timed out");
    assertEquals(0, p.exitValue(), "classify.py failed: " + out);
    return out.strip().lines().reduce((a, b) -> b).orElse("");
  }

  /**
   * Every weight of {@code net} drawn at random (BatchNorm: gamma 0.5..1.5, running variance 0.5..1.5), except that
   * the last BatchNorm of each residual branch scales by 0.05..0.25 (as torchvision's zero_init_residual, softened):
   * with fixed random statistics nothing renormalises the sum, and without it ResNet-50's logits reach ~1e5, where
   * float32's rounding alone exceeds 1e-4.
   */
  static Map<String, NDArray> randomWeights(ResNet net, long seed) {
    String lastBn = net.architecture().getBottleneck() ? ".bn3.weight" : ".bn2.weight";
    Random r = new Random(seed);
    Map<String, NDArray> weights = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : ParameterNames.of(net).entrySet()) {
      NDArray a = e.getValue().getArray();
      String name = e.getKey();
      boolean positive = name.endsWith("running_var") || (name.endsWith(".weight") && a.getShape().dimension() == 1);
      double fanIn = a.getShape().dimension() > 1 ? a.getShape().size() / a.getShape().get(0) : 1;
      float[] v = new float[(int) a.getShape().size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = name.startsWith("layer") && name.endsWith(lastBn) ? 0.05f + 0.2f * r.nextFloat()
            : positive ? 0.5f + r.nextFloat() : (float) (r.nextGaussian() * (a.getShape().dimension() > 1
            ? Math.sqrt(2 / fanIn) : 0.1));
      }
      a.set(FloatBuffer.wrap(v));
      weights.put(name, a);
    }
    return weights;
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50"})
  void torchvisionLoadsTheSafetensorsStrictlyAndComputesTheFleetsLogits(String family) throws Exception {
    assumeTrue(torchvisionAvailable(), "python3-torchvision is not installed (/usr/bin/python3 -c 'import torchvision' "
        + "fails): the torchvision check is skipped");
    Architecture arch = ResNets.resolve(Architecture.newBuilder().setFamily(family).setNumClasses(CLASSES).build());
    float[] input;
    float[] fleet;
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResNet net = ResNets.build(arch, m, SIZE);
      Map<String, NDArray> weights = randomWeights(net, 42);
      ModelManifest manifest = ModelManifest.newBuilder().setArchitecture(arch).setJobId("tv").setInputHeight(SIZE)
          .setInputWidth(SIZE).setNormalization("imagenet").setGlobalStep(17).build();
      List<String> names = IntStream.range(0, CLASSES).mapToObj(i -> "class-" + i).toList();
      ModelExport.Artifacts a = ModelExport.export(new ModelFile.Contents(manifest, weights, Map.of()),
          new ModelExport.Context("teacher", names, Metrics.getDefaultInstance(), Lineage.getDefaultInstance(), 0),
          Map.of());
      Files.write(dir.resolve(ModelExport.SAFETENSORS), a.safetensors());
      Files.write(dir.resolve(ModelExport.CARD), a.card());
      byte[] pixels = new byte[2 * SIZE * SIZE * 3];
      new Random(7).nextBytes(pixels);
      ImageBatch batch = new ImageBatch(2, SIZE, SIZE, 3, new int[2], new int[2], pixels);
      try (Classifier c = Classifier.of(arch, SIZE, io.tunefleet.ml.data.Normalization.HALF, weights, Device.cpu()); NDManager scope = c.manager().newSubManager()) {
        fleet = c.logits(scope, batch).toFloatArray();
        input = Tensors.images(scope, batch, c.normalization()).toFloatArray();
      }
    }
    ByteBuffer raw = ByteBuffer.allocate(input.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(input);
    Path in = Files.write(dir.resolve("input.f32"), raw.array());

    JsonArray rows = JsonParser.parseString(python(dir.resolve(ModelExport.CARD).toString(), "--input-raw", in.toString()))
        .getAsJsonObject().getAsJsonArray("logits");
    double maxDiff = 0;
    double maxLogit = 0;
    for (float f : fleet) {
      maxLogit = Math.max(maxLogit, Math.abs(f));
    }
    for (int i = 0; i < 2; i++) {
      JsonArray row = rows.get(i).getAsJsonArray();
      assertEquals(CLASSES, row.size());
      for (int k = 0; k < CLASSES; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(row.get(k).getAsDouble() - fleet[i * CLASSES + k]));
      }
    }
    System.out.printf("%s: torchvision vs fleet, max |logit difference| %.2e (max |logit| %.2f)%n", family, maxDiff,
        maxLogit);
    assertTrue(maxDiff <= 1e-4, family + ": max |torchvision - fleet| = " + maxDiff);

    BufferedImage photo = new BufferedImage(97, 75, BufferedImage.TYPE_INT_RGB);
    photo.setRGB(40, 30, 0xc08040);
    Path jpeg = dir.resolve("photo.jpg");
    ImageIO.write(photo, "jpg", jpeg.toFile());
    String out = python(dir.resolve(ModelExport.CARD).toString(), jpeg.toString());
    assertTrue(out.contains("\"class_name\": \"class-"), out);
  }
}
