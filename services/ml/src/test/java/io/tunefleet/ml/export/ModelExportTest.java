package io.tunefleet.ml.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ParameterNames;
import io.tunefleet.ml.model.ResNet;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.Lineage;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelManifest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The safetensors layout and the model card's content, read back byte by byte and field by field. */
class ModelExportTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  static final List<String> NAMES = List.of("cat", "dog", "fox");

  static ModelExport.Artifacts export(Architecture arch, String normalization) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      ResNet net = ResNets.build(arch, m, 32);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      ParameterNames.of(net).forEach((name, p) -> weights.put(name, p.getArray()));
      ModelManifest manifest = ModelManifest.newBuilder().setArchitecture(net.architecture()).setJobId("j7").setEpoch(4)
          .setInputHeight(32).setInputWidth(32).setNormalization(normalization).setGlobalStep(123).build();
      Metrics metrics = Metrics.newBuilder().setAccuracy(0.9).setMacroF1(0.85).setSamples(30)
          .addPerClass(ClassMetrics.newBuilder().setLabel(1).setName("dog").setF1(0.8).setSupport(10)).build();
      Lineage lineage = Lineage.newBuilder().setBaseModel("random initialisation (resnet18)").setDatasetSha256("ab12")
          .setRequest(BlobRef.newBuilder().setUri("file:///blobs/jobs/j7/request.pb").setSha256("cd34")).build();
      return ModelExport.export(new ModelFile.Contents(manifest, weights, Map.of()),
          new ModelExport.Context("teacher", NAMES, metrics, lineage, 42),
          Map.of("tfm", new ModelCard.FileEntry("../teacher.model", 5, "ef56")));
    }
  }

  static JsonObject header(byte[] safetensors) {
    long n = ByteBuffer.wrap(safetensors, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return JsonParser.parseString(new String(safetensors, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
  }

  @Test
  void safetensorsHoldsEveryTensorContiguouslyWithBatchNormBuffersAndAlignedData() {
    Architecture arch = Architecture.newBuilder().setFamily("resnet18").setNumClasses(3).build();
    byte[] file = export(arch, "imagenet").safetensors();
    long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
    JsonObject h = header(file);
    assertEquals("pt", h.getAsJsonObject("__metadata__").get("format").getAsString());
    assertEquals("[\"cat\",\"dog\",\"fox\"]", h.getAsJsonObject("__metadata__").get("class_names").getAsString());
    // len(torchvision.models.resnet18().state_dict()) is 122: 62 parameters, 3 buffers for each of 20 BatchNorms
    assertEquals(122, h.size() - 1);
    JsonObject tracked = h.getAsJsonObject("layer4.1.bn2.num_batches_tracked");
    assertEquals("I64", tracked.get("dtype").getAsString());
    assertEquals(0, tracked.getAsJsonArray("shape").size());
    int begin = tracked.getAsJsonArray("data_offsets").get(0).getAsInt();
    assertEquals(123, ByteBuffer.wrap(file, (int) (8 + n) + begin, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
    assertEquals("[3,512]", h.getAsJsonObject("fc.weight").getAsJsonArray("shape").toString());
    // offsets tile the data exactly: no gap, no overlap, nothing after
    long[][] spans = h.entrySet().stream().filter(e -> !e.getKey().equals("__metadata__"))
        .map(e -> e.getValue().getAsJsonObject().getAsJsonArray("data_offsets"))
        .map(a -> new long[] {a.get(0).getAsLong(), a.get(1).getAsLong()})
        .sorted((a, b) -> Long.compare(a[0], b[0])).toArray(long[][]::new);
    long at = 0;
    for (long[] s : spans) {
      assertEquals(at, s[0]);
      at = s[1];
    }
    assertEquals(file.length - 8 - n, at);
  }

  @Test
  void theCardStatesClassesInputNormalisationTransformMetricsLineageAndHashes() {
    Architecture arch = Architecture.newBuilder().setFamily("resnet18").setNumClasses(3).build();
    ModelExport.Artifacts a = export(arch, "imagenet");
    JsonObject card = JsonParser.parseString(new String(a.card(), StandardCharsets.UTF_8)).getAsJsonObject();
    assertEquals(ModelCard.SCHEMA, card.get("schema").getAsString());
    assertEquals("j7", card.get("job_id").getAsString());
    assertEquals("resnet18", card.getAsJsonObject("architecture").get("name").getAsString());
    assertEquals("torchvision.models.resnet18(num_classes=3)",
        card.getAsJsonObject("architecture").get("torchvision").getAsString());
    assertEquals("[\"cat\",\"dog\",\"fox\"]", card.getAsJsonArray("class_names").toString());
    assertEquals(32, card.getAsJsonObject("input").get("height").getAsInt());
    JsonObject norm = card.getAsJsonObject("normalization");
    assertEquals("[0.485,0.456,0.406]", norm.getAsJsonArray("mean").toString());
    assertEquals("[0.229,0.224,0.225]", norm.getAsJsonArray("std").toString());
    assertEquals(255, norm.get("pixel_scale").getAsInt());
    assertEquals("identity", card.getAsJsonObject("eval_transform").get("kind").getAsString());
    assertEquals(5, card.getAsJsonObject("metrics").get("epoch").getAsInt());
    assertEquals("dog", card.getAsJsonObject("metrics").getAsJsonArray("per_class").get(0).getAsJsonObject()
        .get("name").getAsString());
    assertEquals("ab12", card.getAsJsonObject("lineage").get("dataset_sha256").getAsString());
    JsonObject files = card.getAsJsonObject("files");
    assertEquals(ModelExport.sha256(a.onnx()), files.getAsJsonObject("onnx").get("sha256").getAsString());
    assertEquals(a.safetensors().length, files.getAsJsonObject("safetensors").get("size_bytes").getAsLong());
    assertEquals("../teacher.model", files.getAsJsonObject("tfm").get("path").getAsString());
  }

  @Test
  void aNonStandardArchitectureHasNoTorchvisionConstructorInItsCard() {
    Architecture small = Architecture.newBuilder().setFamily("resnet18").setStem("small").setNumClasses(3).build();
    Architecture mlp = Architecture.newBuilder().setFamily("resnet18").setNumClasses(3)
        .setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP)).build();
    for (Architecture arch : List.of(small, mlp)) {
      JsonObject card = JsonParser.parseString(new String(export(arch, "half").card(), StandardCharsets.UTF_8))
          .getAsJsonObject();
      assertFalse(card.getAsJsonObject("architecture").has("torchvision"), arch.toString());
    }
  }

  @Test
  void torchvisionsEvaluationTransformIsResizeToSizeOver0875ThenCenterCrop() {
    EvalTransform t = EvalTransform.resizeCenterCrop(224);
    assertEquals(256, t.resizeShorterSide());
    assertEquals(EvalTransform.RESIZE_CENTER_CROP, t.kind());
    assertEquals(32, EvalTransform.resizeCenterCrop(28).resizeShorterSide());
  }

  @Test
  void classNamesThatDoNotMatchTheClassCountAreRefusedNamingBothCounts() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      Architecture arch = Architecture.newBuilder().setFamily("resnet10").setBaseWidth(4).setStem("small")
          .setNumClasses(3).build();
      ResNet net = ResNets.build(arch, m, 28);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      ParameterNames.of(net).forEach((name, p) -> weights.put(name, p.getArray()));
      ModelManifest manifest = ModelManifest.newBuilder().setArchitecture(net.architecture()).setInputHeight(28)
          .setInputWidth(28).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelExport.export(
          new ModelFile.Contents(manifest, weights, Map.of()), new ModelExport.Context("student", List.of("a", "b"),
              Metrics.getDefaultInstance(), Lineage.getDefaultInstance(), 0), Map.of()));
      assertTrue(e.getMessage().contains("2 names for a model of 3 classes"), e.getMessage());
      IllegalArgumentException noSize = assertThrows(IllegalArgumentException.class, () -> ModelExport.export(
          new ModelFile.Contents(manifest.toBuilder().clearInputHeight().build(), weights, Map.of()),
          new ModelExport.Context("student", NAMES, Metrics.getDefaultInstance(), Lineage.getDefaultInstance(), 0),
          Map.of()));
      assertTrue(noSize.getMessage().contains("input_height"), noSize.getMessage());
    }
  }
}
