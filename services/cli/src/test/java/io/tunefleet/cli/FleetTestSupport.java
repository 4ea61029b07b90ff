package io.tunefleet.cli;

import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Shared set-up of the fleet's integration tests: a real broker, a fresh blob root and topic prefix. */
final class FleetTestSupport {
  private FleetTestSupport() {}

  /** The repository's datasets folder (tests run in a module folder). */
  static Path datasets() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !p.resolve("datasets/fashion-mnist").toFile().isDirectory()) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("datasets/fashion-mnist not found above " + Path.of("").toAbsolutePath());
    }
    return p.resolve("datasets");
  }

  static FleetConfig config(KafkaTestCluster kafka, Path blobRoot) {
    return FleetConfig.load(new JsonObject()
        .put(FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers())
        .put(FleetConfig.BLOB_ROOT.key(), blobRoot.toString())
        .put(FleetConfig.DATA_ROOTS.key(), datasets().toString() + ":" + blobRoot)
        .put(FleetConfig.TOPIC_PREFIX.key(), "t" + UUID.randomUUID().toString().substring(0, 8))
        .put(FleetConfig.PARTITIONS.key(), 3), Map.of());
  }

  /** A small real job: 5 Fashion-MNIST classes, a narrow ResNet-10, two epochs and one of distillation. */
  static TrainingRequest smallJob(String jobId, int perClass) {
    Path fm = datasets().resolve("fashion-mnist");
    return TrainingRequest.newBuilder().setJobId(jobId).setNumClasses(5)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(fm.resolve("train-images-idx3-ubyte.gz").toString())
            .setLabels(fm.resolve("train-labels-idx1-ubyte.gz").toString())
            .addAllClasses(List.of(1, 3, 5, 7, 9)).setMaxPerClass(perClass))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet10")
            .setBaseWidth(16).setStem("small")))
        .setRecipe(Recipe.newBuilder().setEpochs(2).setBatchSize(32).setLrHead(0.05))
        .setDistillation(Distillation.newBuilder().setEpochs(1))
        .build();
  }
}
