package io.tunefleet.ml.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.IdxReader;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.LocalRun;
import io.tunefleet.ml.train.Tensors;
import io.tunefleet.onnx.OnnxProto;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported model.onnx of briefly trained models, run by ONNX Runtime, against the fleet's own network on the
 * same validation images: the demo's teacher (ResNet-10, width 16, small stem) and its distilled width-7 student,
 * and a ResNet-18 with the ImageNet stem and an MLP head. Logits within 1e-4, the same accuracy, and ONNX's own
 * checker (Debian's python3-onnx, full_check) accepts every file.
 */
class OnnxExportTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  // the demo's task: the odd Fashion-MNIST classes, from the base model trained on the even ones
  static final List<Integer> CLASSES = List.of(1, 3, 5, 7, 9);
  static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot");

  @TempDir static Path dir;
  static Path datasets;
  static LabeledImages train;
  static ImageBatch validation;
  static byte[] teacher;
  static byte[] student;
  static byte[] mlpResnet18;

  @BeforeAll
  static void trainBriefly() throws Exception {
    datasets = datasets();
    Path fm = datasets.resolve("fashion-mnist");
    train = IdxReader.read(fm.resolve("train-images-idx3-ubyte.gz"), fm.resolve("train-labels-idx1-ubyte.gz"), CLASSES,
        NAMES, 60);
    validation = ImageBatch.of(IdxReader.read(fm.resolve("t10k-images-idx3-ubyte.gz"),
        fm.resolve("t10k-labels-idx1-ubyte.gz"), CLASSES, NAMES, 40));
    TrainingRequest demo = request("onnx-demo", Architecture.newBuilder().setFamily("resnet10").setBaseWidth(16)
        .setStem("small").build());
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Map<String, NDArray> base = ModelFile.decode(Files.readAllBytes(datasets.resolve("models/fmnist-even-resnet10-w16.model")),
          m).weights();
      teacher = LocalRun.teacher(demo, train, validation, base).bestModel();
    }
    assertEquals(7, demo.getDistillation().getStudent().getBaseWidth(), "the demo's student");
    student = LocalRun.student(demo, train, validation, teacher).bestModel();
    mlpResnet18 = LocalRun.teacher(request("onnx-mlp", Architecture.newBuilder().setFamily("resnet18")
        .setStem("imagenet").setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP).setHidden(64)).build()),
        train, validation, null).bestModel();
  }

  static TrainingRequest request(String job, Architecture architecture) {
    Path fm = datasets.resolve("fashion-mnist");
    return RequestResolver.resolve(TrainingRequest.newBuilder().setJobId(job).setNumClasses(CLASSES.size())
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString()).addAllClasses(CLASSES).addAllClassNames(NAMES))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(architecture))
        .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(32).setLrHead(0.05).setLrBackbone(0.05).setSeed(7))
        .setDistillation(Distillation.newBuilder().setEpochs(4)).build(), new PathPolicy(List.of(datasets)));
  }

  static Path datasets() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("datasets/fashion-mnist"))) {
      p = p.getParent();
    }
    assertTrue(p != null, "datasets/fashion-mnist not found");
    return p.resolve("datasets");
  }

  /** Exports a fleet model file to the three artifacts (a card with made-up lineage: not under test here). */
  static ModelExport.Artifacts export(byte[] modelFile, String name) throws Exception {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ModelFile.Contents c = ModelFile.decode(modelFile, m);
      return ModelExport.export(c, new ModelExport.Context(name, NAMES, Metrics.getDefaultInstance(),
          Lineage.getDefaultInstance(), 0), Map.of());
    }
  }

  /** Runs ONNX Runtime on the validation images and compares with the fleet's network, then the ONNX checker. */
  static void matchesTheFleet(byte[] modelFile, String name, double minAccuracy) throws Exception {
    ModelExport.Artifacts a = export(modelFile, name);
    float[][] fleet;
    float[] input;
    try (Classifier c = Classifier.load(modelFile, 28, Device.cpu()); NDManager scope = c.manager().newSubManager()) {
      NDArray logits = c.logits(scope, validation);
      fleet = toRows(logits.toFloatArray(), validation.size());
      input = Tensors.images(scope, validation, c.normalization()).toFloatArray();
    }
    float[][] ort;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(a.onnx(), new OrtSession.SessionOptions());
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {validation.size(), 3, 28, 28});
        OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, x))) {
      assertEquals(List.of(OnnxExport.OUTPUT), new ArrayList<>(session.getOutputNames()));
      ort = (float[][]) r.get(0).getValue();
    }
    double maxDiff = 0;
    int fleetCorrect = 0;
    int ortCorrect = 0;
    for (int i = 0; i < fleet.length; i++) {
      for (int k = 0; k < fleet[i].length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(fleet[i][k] - ort[i][k]));
      }
      fleetCorrect += argMax(fleet[i]) == validation.labels()[i] ? 1 : 0;
      ortCorrect += argMax(ort[i]) == validation.labels()[i] ? 1 : 0;
    }
    System.out.printf("%s: %d validation images, max |logit difference| %.2e, accuracy fleet %.4f, ONNX Runtime %.4f%n",
        name, fleet.length, maxDiff, fleetCorrect / (double) fleet.length, ortCorrect / (double) fleet.length);
    assertTrue(maxDiff <= 1e-4, name + ": max |fleet - ONNX Runtime| = " + maxDiff);
    assertEquals(fleetCorrect, ortCorrect, name + ": correct predictions");
    assertTrue(fleetCorrect >= minAccuracy * fleet.length, name + " scored below " + minAccuracy + ": did it train?");
    Path file = dir.resolve(name + ".onnx");
    Files.write(file, a.onnx());
    passesOnnxChecker(file);
  }

  /** Debian's python3-onnx: {@code onnx.checker.check_model(..., full_check=True)}, which also infers every shape. */
  static void passesOnnxChecker(Path file) throws Exception {
    assumeTrue(onnxAvailable(), "python3-onnx is not installed (/usr/bin/python3 -c 'import onnx' fails): "
        + "the ONNX checker step is skipped");
    Process p = new ProcessBuilder("/usr/bin/python3", "-c",
        "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('onnx checker: ok')",
        file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "checker timed out");
    assertEquals(0, p.exitValue(), file.getFileName() + " fails onnx.checker: " + out);
  }

  static boolean onnxAvailable() {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import onnx").redirectErrorStream(true).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  static float[][] toRows(float[] flat, int n) {
    int k = flat.length / n;
    float[][] rows = new float[n][k];
    for (int i = 0; i < n; i++) {
      System.arraycopy(flat, i * k, rows[i], 0, k);
    }
    return rows;
  }

  static int argMax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  @Test
  void onnxRuntimeGivesTheDemoTeachersLogitsAndAccuracy() throws Exception {
    matchesTheFleet(teacher, "teacher-resnet10-w16-small", 0.5);
  }

  @Test
  void onnxRuntimeGivesTheDistilledStudentsLogitsAndAccuracy() throws Exception {
    matchesTheFleet(student, "student-resnet10-w7-small", 0.3);
  }

  @Test
  void onnxRuntimeGivesAResnet18WithImagenetStemAndMlpHeadItsLogitsAndAccuracy() throws Exception {
    // two epochs from scratch on 500 images: barely trained, but trained (BatchNorm statistics, head) all the same
    matchesTheFleet(mlpResnet18, "resnet18-imagenet-mlp", 0);
  }

  @Test
  void onnxRuntimeGivesAResnet50WithBottlenecksAndStridedShortcutsTheFleetsLogits() throws Exception {
    Architecture r50 = ResNets.resolve(Architecture.newBuilder().setFamily("resnet50")
        .setNumClasses(CLASSES.size()).build());
    byte[] modelFile;
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResNet net = ResNets.build(r50, m, 28);
      Map<String, NDArray> weights = TorchvisionSafetensorsTest.randomWeights(net, 3);
      modelFile = ModelFile.encode(ModelManifest.newBuilder().setArchitecture(r50)
          .setInputHeight(28).setInputWidth(28).build(), weights, Map.of());
    }
    // random weights: the accuracy is chance, but it must be the same chance
    matchesTheFleet(modelFile, "resnet50-random", 0);
  }

  @Test
  void theGraphHasADynamicBatchTorchvisionNamesAndOpset13() throws Exception {
    OnnxProto.ModelProto model = OnnxProto.ModelProto.parseFrom(export(teacher, "teacher").onnx());
    assertEquals(OnnxExport.OPSET, model.getOpsetImport(0).getVersion());
    OnnxProto.ValueInfoProto input = model.getGraph().getInput(0);
    assertEquals("input", input.getName());
    assertEquals("N", input.getType().getTensorType().getShape().getDim(0).getDimParam());
    assertEquals(28, input.getType().getTensorType().getShape().getDim(2).getDimValue());
    assertEquals("logits", model.getGraph().getOutput(0).getName());
    List<String> initializers = model.getGraph().getInitializerList().stream().map(OnnxProto.TensorProto::getName).toList();
    assertTrue(initializers.containsAll(List.of("conv1.weight", "bn1.running_var", "layer2.0.downsample.0.weight",
        "fc.weight", "fc.bias")), initializers.toString());
    assertTrue(model.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("class_names")
        && p.getValue().equals("[\"Trouser\",\"Dress\",\"Sandal\",\"Sneaker\",\"Ankle boot\"]")));
  }

  @Test
  void weightsThatDoNotMatchTheArchitectureAreNamedInTheError() throws Exception {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ModelFile.Contents c = ModelFile.decode(teacher, m);
      Map<String, NDArray> weights = new java.util.LinkedHashMap<>(c.weights());
      weights.remove("layer3.0.bn2.running_mean");
      weights.remove("fc.bias");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
          OnnxExport.export(c.manifest().getArchitecture(), 28, 28, weights, Map.of()));
      assertTrue(e.getMessage().contains("missing [layer3.0.bn2.running_mean, fc.bias]"), e.getMessage());
    }
  }
}
