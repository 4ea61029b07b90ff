package io.tunefleet.ml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.tunefleet.ml.augment.ImageU8;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The base-model loader without Python: the torchvision key layout against the fleet's own network, every
 * named error a bad safetensors or TorchScript file gets at acceptance, and a job that starts from a
 * safetensors base through the trainer's path (resolve, load, initialise, train, checkpoint, resume).
 */
class BaseModelsTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  /** A torchvision-layout ResNet small enough to write by hand: one block per stage, width 4, 3x3 stem. */
  static final Architecture TINY = ResNets.resolve(Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4)
      .setStem("small").setNumClasses(7).build());

  @TempDir Path root;

  PathPolicy paths() {
    return new PathPolicy(List.of(root));
  }

  /** A safetensors file: the 8-byte little-endian header length, the header, the data. */
  static byte[] safetensors(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.writeBytes(h);
    out.writeBytes(data);
    return out.toByteArray();
  }

  /** float32 tensors of these shapes, all zero, laid out one after the other. */
  static byte[] safetensors(Map<String, Shape> shapes) {
    StringBuilder header = new StringBuilder("{");
    long offset = 0;
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      long bytes = e.getValue().size() * 4;
      header.append(header.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
          .append(Arrays.toString(e.getValue().getShape())).append(",\"data_offsets\":[").append(offset).append(',')
          .append(offset + bytes).append("]}");
      offset += bytes;
    }
    return safetensors(header.append('}').toString(), new byte[(int) offset]);
  }

  static Map<String, Shape> tinyStateDict() {
    Map<String, Shape> shapes = new LinkedHashMap<>(TorchvisionStateDict.backbone(TINY));
    shapes.put("fc.weight", new Shape(7, 32));
    shapes.put("fc.bias", new Shape(7));
    return shapes;
  }

  Path write(String name, byte[] bytes) throws Exception {
    return Files.write(root.resolve(name), bytes);
  }

  /** The problems acceptance reports for a request whose base is {@code spec}. */
  List<String> problems(BaseModel spec) {
    List<FieldProblem> problems = new ArrayList<>();
    assertNull(BaseModels.describe(spec, paths(), problems), "a bad base is not described");
    return problems.stream().map(FieldProblem::toString).toList();
  }

  static BaseModel safetensorsBase(Path file) {
    return BaseModel.newBuilder().setSafetensors(file.toString()).build();
  }

  @Test
  void theTorchvisionKeysOfAnArchitectureAreTheFleetNetworksOwn() {
    List<Architecture> archs = List.of(TINY,
        ResNets.resolve(Architecture.newBuilder().setFamily("resnet18").setBaseWidth(8).setNumClasses(3).build()),
        ResNets.resolve(Architecture.newBuilder().setFamily("resnet").addAllBlocks(List.of(1, 2, 1, 1)).setBottleneck(true)
            .setBaseWidth(4).setStem("small").setNumClasses(3).build()));
    for (Architecture a : archs) {
      try (NDManager m = NDManager.newBaseManager()) {
        Map<String, Shape> fleet = new LinkedHashMap<>();
        ParameterNames.of(ResNets.build(a, m, 16)).forEach((name, p) -> {
          if (!name.startsWith("fc.")) {
            fleet.put(name, p.getArray().getShape());
          }
        });
        assertEquals(fleet, TorchvisionStateDict.backbone(a), ResNets.name(a));
      }
    }
  }

  @Test
  void aSafetensorsStateDictIsDescribedFromItsHeaderAlone() throws Exception {
    Path file = write("tiny.safetensors", safetensors(tinyStateDict()));
    List<FieldProblem> problems = new ArrayList<>();
    BaseModels.Description d = BaseModels.describe(safetensorsBase(file), paths(), problems);
    assertEquals(List.of(), problems);
    assertEquals(BaseModels.Source.SAFETENSORS, d.source());
    assertEquals(List.of(1, 1, 1, 1), d.architecture().getBlocksList());
    assertEquals("resnet10", d.architecture().getFamily());
    assertEquals("small", d.architecture().getStem());
    assertEquals(4, d.architecture().getBaseWidth());
    assertEquals(7, d.architecture().getNumClasses());
    assertEquals(Normalization.IMAGENET, d.normalization(), "torchvision bases expect ImageNet normalisation");
  }

  @Test
  void aSafetensorsFileThatIsNotAResNetIsRefusedByName() throws Exception {
    Path file = write("bert.safetensors", safetensors(Map.of("encoder.weight", new Shape(4, 4))));
    assertEquals(List.of("base_model.safetensors: not a torchvision ResNet: it has no conv1.weight / layer1.0.conv1.weight "
        + "(names: encoder.weight)"), problems(safetensorsBase(file)));

    Map<String, Shape> wrapped = new LinkedHashMap<>();
    tinyStateDict().forEach((k, v) -> wrapped.put("module." + k, v));
    Path parallel = write("parallel.safetensors", safetensors(wrapped));
    assertTrue(problems(safetensorsBase(parallel)).get(0).contains("save model.module.state_dict()"), "DataParallel hint");
  }

  @Test
  void missingMisShapedAndForeignKeysAreListed() throws Exception {
    Map<String, Shape> shapes = tinyStateDict();
    shapes.remove("layer1.0.bn1.running_var");
    shapes.remove("layer3.0.bn2.running_mean");
    shapes.put("layer2.0.conv1.weight", new Shape(8, 5, 3, 3));
    shapes.put("layer1.0.se.fc1.weight", new Shape(2, 4));
    shapes.put("layer1.0.bn1.num_batches_tracked", new Shape());
    Path file = write("odd.safetensors", safetensors(shapes));
    assertEquals(List.of("base_model.safetensors: not the state_dict of a torchvision resnet[1,1,1,1]-w4-small: "
        + "2 missing: layer1.0.bn1.running_var, layer3.0.bn2.running_mean; "
        + "1 mis-shaped: layer2.0.conv1.weight is (8, 5, 3, 3), expected (8, 4, 3, 3); "
        + "1 not in a torchvision resnet[1,1,1,1]-w4-small: layer1.0.se.fc1.weight"), problems(safetensorsBase(file)));
  }

  @Test
  void aTruncatedSafetensorsFileIsRefusedByName() throws Exception {
    byte[] whole = safetensors(tinyStateDict());
    Path file = write("cut.safetensors", Arrays.copyOf(whole, whole.length - 10));
    List<String> problems = problems(safetensorsBase(file));
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).startsWith("base_model.safetensors: cannot read a safetensors file from it: truncated: the file "
        + "holds "), problems.get(0));
    assertTrue(problems.get(0).contains("1 of its " + tinyStateDict().size() + " tensors lie beyond them (fc.bias ends at byte "),
        problems.get(0));

    Path stub = write("stub.safetensors", new byte[] {1, 2, 3});
    assertEquals(List.of("base_model.safetensors: cannot read a safetensors file from it: truncated: 3 bytes, shorter than "
        + "the 8-byte header length that starts a safetensors file"), problems(safetensorsBase(stub)));
  }

  @Test
  void aHeaderThatClaimsMoreBytesThanTheFileHasIsRefusedByName() throws Exception {
    byte[] bytes = safetensors(tinyStateDict());
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    Path file = write("liar.safetensors", bytes);
    assertEquals(List.of("base_model.safetensors: cannot read a safetensors file from it: the header claims 1099511627776 "
        + "bytes but only " + (bytes.length - 8) + " follow its 8-byte length (a truncated file, or not a safetensors file)"),
        problems(safetensorsBase(file)));
  }

  @Test
  void aMalformedHeaderIsRefusedByName() throws Exception {
    Path notJson = write("text.safetensors", safetensors("{\"conv1.weight\": [", new byte[0]));
    assertTrue(problems(safetensorsBase(notJson)).get(0).contains("the header is not valid JSON"),
        problems(safetensorsBase(notJson)).toString());
    Path wrongSize = write("size.safetensors", safetensors(
        "{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", new byte[8]));
    assertEquals(List.of("base_model.safetensors: cannot read a safetensors file from it: tensor conv1.weight has "
        + "data_offsets [0,8], 8 bytes, but dtype F32 and shape [4] need 16"), problems(safetensorsBase(wrongSize)));
    Path badType = write("type.safetensors", safetensors(
        "{\"conv1.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[4]));
    assertTrue(problems(safetensorsBase(badType)).get(0).contains("tensor conv1.weight has dtype F8_E4M3"),
        problems(safetensorsBase(badType)).toString());
  }

  @Test
  void aBaseModelOutsideTheAllowedRootsIsRefusedByName() throws Exception {
    Path outside = Files.createDirectories(root.resolve("elsewhere")).resolve("tiny.safetensors");
    Files.write(outside, safetensors(tinyStateDict()));
    PathPolicy onlyModels = new PathPolicy(List.of(Files.createDirectories(root.resolve("models"))));
    List<FieldProblem> problems = new ArrayList<>();
    assertNull(BaseModels.describe(safetensorsBase(outside), onlyModels, problems));
    assertEquals(1, problems.size());
    assertEquals("base_model.safetensors", problems.get(0).field());
    assertTrue(problems.get(0).problem().contains("lies outside the allowed roots"), problems.get(0).problem());
  }

  @Test
  void onlyOneBaseModelMayBeNamed() throws Exception {
    Path file = write("tiny.safetensors", safetensors(tinyStateDict()));
    BaseModel both = safetensorsBase(file).toBuilder().setCheckpoint(file.toString()).build();
    assertEquals(List.of("base_model: set at most one of checkpoint, torchscript and safetensors; checkpoint and "
        + "safetensors are set"), problems(both));
  }

  @Test
  void aTorchScriptFileThatIsNotAnExportIsRefusedByName() throws Exception {
    Path text = write("model.pt", "not a model".getBytes(StandardCharsets.UTF_8));
    BaseModel spec = BaseModel.newBuilder().setTorchscript(text.toString()).build();
    assertTrue(problems(spec).get(0).startsWith("base_model.torchscript: cannot read a TorchScript export from it: not a "
        + "readable zip archive"), problems(spec).toString());

    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(zip)) {
      out.putNextEntry(new ZipEntry("model/version"));
      out.write('3');
      out.closeEntry();
    }
    Path noPickle = write("empty.pt", zip.toByteArray());
    assertEquals(List.of("base_model.torchscript: cannot read a TorchScript export from it: the archive has no data.pkl: "
        + "not a TorchScript export"), problems(BaseModel.newBuilder().setTorchscript(noPickle.toString()).build()));
    ByteArrayOutputStream junk = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(junk)) {
      out.putNextEntry(new ZipEntry("model/data.pkl"));
      out.write("not a pickle".getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    Path badPickle = write("junk.pt", junk.toByteArray());
    assertTrue(problems(BaseModel.newBuilder().setTorchscript(badPickle.toString()).build()).get(0)
        .startsWith("base_model.torchscript: cannot read a TorchScript export from it: cannot read the module state in "
            + "model/data.pkl: "), problems(BaseModel.newBuilder().setTorchscript(badPickle.toString()).build()).toString());
    Path cut = write("cut.pt", Arrays.copyOf(zip.toByteArray(), zip.size() - 30));
    assertTrue(problems(BaseModel.newBuilder().setTorchscript(cut.toString()).build()).get(0).contains("a truncated one is not"));
  }

  /** A request for {@code classes} classes on dummy idx files (acceptance checks only that they exist). */
  TrainingRequest request(BaseModel base, int classes) throws Exception {
    Files.write(root.resolve("images"), new byte[] {0});
    Files.write(root.resolve("labels"), new byte[] {0});
    return TrainingRequest.newBuilder().setJobId("from-safetensors").setNumClasses(classes)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages(root.resolve("images").toString())
            .setLabels(root.resolve("labels").toString()))
        .setBaseModel(base).setDistillation(Distillation.newBuilder().setEnabled(false)).build();
  }

  @Test
  void acceptanceNamesTheSafetensorsFieldAndKeepsTheBaseArchitectureWithTheJobsHead() throws Exception {
    Path file = write("tiny.safetensors", safetensors(tinyStateDict()));
    BaseModel base = safetensorsBase(file).toBuilder()
        .setArchitecture(Architecture.newBuilder().setFamily("resnet50").setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP)))
        .build();
    Architecture a = RequestResolver.resolve(request(base, 3), paths()).getBaseModel().getArchitecture();
    assertEquals("resnet10", a.getFamily(), "the file's architecture, not the request's family");
    assertEquals(4, a.getBaseWidth());
    assertEquals(HeadSpec.Kind.MLP, a.getHead().getKind(), "the request's head");
    assertEquals(3, a.getNumClasses(), "the job's classes");

    Path bad = write("bad.safetensors", safetensors(Map.of("encoder.weight", new Shape(4, 4))));
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(request(safetensorsBase(bad), 3), paths()));
    assertEquals("base_model.safetensors", e.problems().get(0).field());
  }

  static ImageBatch images(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<ImageU8> imgs = new ArrayList<>();
    int[] labels = new int[8];
    for (int i = 0; i < 8; i++) {
      byte[] px = new byte[8 * 8 * 3];
      for (int j = 0; j < px.length; j++) {
        px[j] = (byte) rng.nextInt(256);
      }
      imgs.add(new ImageU8(8, 8, 3, px));
      labels[i] = i % 3;
    }
    return ImageBatch.of(imgs, labels, new int[8]);
  }

  static float[] features(TrainingSession s, NDManager scope) {
    NDArray x = scope.linspace(-2f, 2f, 4 * 3 * 8 * 8).reshape(new Shape(4, 3, 8, 8));
    return s.net().features(new ParameterStore(scope, false), x, false).toFloatArray();
  }

  @Test
  void aJobStartsFromASafetensorsBaseWithItsRunningStatisticsAndResumes() throws Exception {
    Architecture pretrained = TINY.toBuilder().setNumClasses(3).build();
    TrainingRequest pretraining = RequestResolver.resolve(request(BaseModel.newBuilder().setArchitecture(pretrained).build(), 3),
        paths());
    Path file = root.resolve("pretrained.safetensors");
    try (TrainingSession source = TrainingSession.create(pretraining.getBaseModel().getArchitecture(), 8,
        SessionConfigs.teacher(pretraining), Device.cpu(), 1)) {
      source.beginEpoch(0);
      for (int i = 0; i < 4; i++) {
        source.step(images(i)); // moves BatchNorm's running statistics away from 0 / 1
      }
      // the base as torchvision would hand it over, written by DJL's own safetensors encoder
      NDList state = new NDList();
      source.parameters().forEach((name, p) -> {
        NDArray a = p.getArray().duplicate();
        a.setName(name);
        state.add(a);
      });
      Files.write(file, state.encode(NDList.Encoding.SAFETENSORS));
      assertTrue(Math.abs(source.parameters().get("layer1.0.bn1.running_mean").getArray().toFloatArray()[0]) > 1e-4);

      // the job: 5 classes of its own from that base, through acceptance and the trainer's loader
      TrainingRequest job = RequestResolver.resolve(request(safetensorsBase(file), 5), paths());
      Architecture a = job.getBaseModel().getArchitecture();
      assertEquals(5, a.getNumClasses());
      try (TrainingSession fineTuned = TrainingSession.create(a, 8, SessionConfigs.teacher(job), Device.cpu(),
          job.getRecipe().getSeed()); NDManager m = NDManager.newBaseManager()) {
        BaseModels.Base base = BaseModels.load(job.getBaseModel(), paths(), m);
        int copied = fineTuned.initBackboneFrom(base.weights());
        assertEquals(TorchvisionStateDict.backbone(a).size(), copied, "every backbone tensor, running statistics included");
        for (Map.Entry<String, Parameter> e : fineTuned.parameters().entrySet()) {
          if (!e.getKey().startsWith("fc.")) {
            assertArrayEquals(source.parameters().get(e.getKey()).getArray().toFloatArray(), e.getValue().getArray().toFloatArray(),
                e.getKey());
          }
        }
        try (NDManager scope = NDManager.newBaseManager()) {
          assertArrayEquals(features(source, scope), features(fineTuned, scope), 1e-6f,
              "in evaluation mode the fine-tuned network starts with the base's features");
        }

        fineTuned.beginEpoch(0);
        assertTrue(Float.isFinite(fineTuned.step(images(9)).loss()));
        byte[] checkpoint = fineTuned.save(ModelManifest.newBuilder().setEpoch(0).build(), true);
        try (TrainingSession resumed = TrainingSession.create(a, 8, SessionConfigs.teacher(job), Device.cpu(), 99);
            NDManager c = NDManager.newBaseManager()) {
          resumed.restore(ModelFile.decode(checkpoint, c));
          for (Map.Entry<String, Parameter> e : fineTuned.parameters().entrySet()) {
            assertArrayEquals(e.getValue().getArray().toFloatArray(), resumed.parameters().get(e.getKey()).getArray().toFloatArray(),
                e.getKey());
          }
        }
      }
    }
  }
}
