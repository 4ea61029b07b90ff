package io.tunefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.FolderBlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.testing.KafkaTestCluster;
import io.tunefleet.ml.bench.SyntheticPhotos;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's own photos through a real broker and all four services: a folder of JPEGs and PNGs of random sizes
 * (100–400 px; baseline, progressive, grayscale and EXIF-rotated JPEG; RGB, RGBA, 16-bit and palette PNG), the same
 * photos listed in a CSV manifest (with an unreadable file skipped on request), and torchvision's train/ + val/
 * layout. Each job trains at {@code recipe.imageSize} 64 and finishes; its checkpoints and finished models
 * record the input size and the normalisation. The photos are generated here, not committed.
 */
@Tag("integration")
class PhotoDatasetsIT {
  static final List<String> CLASSES = List.of("ants", "bees", "wasps");
  static KafkaTestCluster kafka;
  static LocalFleet fleet;
  static FleetClient client;
  @TempDir static Path blobRoot;

  @BeforeAll
  static void start() {
    kafka = KafkaTestCluster.start(3);
    fleet = LocalFleet.start(FleetTestSupport.config(kafka, blobRoot), false);
    client = new FleetClient(fleet.config());
  }

  @AfterAll
  static void stop() {
    client.close();
    fleet.close();
    kafka.close();
  }

  /** A job small enough to train in seconds: ResNet-10 of width 16 with the ImageNet stem, 64 px, 2 epochs + 1 of distillation. */
  private static TrainingRequest.Builder job(String id, String format, Path images) throws Exception {
    String json = """
        {"jobId": "%s", "numClasses": 3,
         "dataset": {"format": "%s", "images": "%s"},
         "baseModel": {"architecture": {"family": "resnet10", "baseWidth": 16, "stem": "imagenet"}},
         "recipe": {"epochs": 2, "batchSize": 8, "imageSize": 64},
         "distillation": {"epochs": 1}}
        """.formatted(id, format, images);
    TrainingRequest.Builder b = TrainingRequest.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(json, b);
    return b;
  }

  @Test
  void photoFoldersCsvManifestsAndTrainValFoldersTrainToFinishedModels() throws Exception {
    Path uploads = blobRoot.resolve("uploads");
    List<Path> photos = SyntheticPhotos.writeFolder(uploads.resolve("insects"), CLASSES, 8, 100, 400, 11);
    SyntheticPhotos.writeFolder(uploads.resolve("insects-tv/train"), CLASSES, 8, 100, 400, 12);
    SyntheticPhotos.writeFolder(uploads.resolve("insects-tv/val"), CLASSES, 3, 100, 400, 13);
    StringBuilder csv = new StringBuilder("path,label\n");
    for (Path p : photos) {
      csv.append("insects/").append(p.getParent().getFileName()).append('/').append(p.getFileName()).append(',')
          .append(p.getParent().getFileName()).append('\n');
    }
    Files.write(uploads.resolve("broken.jpg"), new byte[0]);
    csv.append("broken.jpg,bees\n");
    Files.writeString(uploads.resolve("insects.csv"), csv);

    // the request's JSON names: recipe.imageSize, recipe.normalization, dataset.skipUnreadable, dataset.format "csv"
    TrainingRequest folder = job("photos-folder", "image_folder", uploads.resolve("insects"))
        .mergeFrom(parse("{\"recipe\": {\"normalization\": \"imagenet\"}}")).build();
    TrainingRequest manifest = job("photos-csv", "csv", uploads.resolve("insects.csv"))
        .mergeFrom(parse("{\"dataset\": {\"skipUnreadable\": true}}")).build();
    TrainingRequest trainVal = job("photos-train-val", "image_folder", uploads.resolve("insects-tv"))
        .mergeFrom(parse("{\"recipe\": {\"normalization\": \"imagenet\", \"trainCrop\": \"center_crop\"}}")).build();
    List<TrainingRequest> jobs = List.of(folder, manifest, trainVal);
    for (TrainingRequest r : jobs) {
      client.submit(r);
    }
    FolderBlobStore blobs = new FolderBlobStore(blobRoot);
    List<String> problems = new ArrayList<>();
    for (TrainingRequest r : jobs) {
      String id = r.getJobId();
      JobWatcher.Outcome o = new JobWatcher(client, System.out).watch(id, Duration.ofMinutes(4));
      if (!o.succeeded()) {
        problems.add(id + " did not finish: " + o.lastStatus());
        continue;
      }
      String normalization = id.equals("photos-csv") ? "half" : "imagenet";
      ModelFinished done = o.finished();
      // the last training checkpoint: best-and-last retention may have removed epoch 0's when epoch 1 was the best
      BlobRef lastCheckpoint = io.tunefleet.proto.v1.Checkpoint.parseFrom(blobs.read(JobPaths.latestCheckpoint(id, Phase.TRAIN)))
          .getCheckpoint();
      List<BlobRef> files = List.of(lastCheckpoint, done.getTeacher().getModel(),
          done.getStudent().getModel());
      for (BlobRef ref : files) {
        ModelManifest m = ModelFile.readManifest(blobs.pathOf(ref.getUri()));
        String seen = m.getInputHeight() + "x" + m.getInputWidth() + " " + m.getNormalization();
        if (!seen.equals("64x64 " + normalization)) {
          problems.add(id + " " + ref.getUri() + " records " + seen + ", expected 64x64 " + normalization);
        }
      }
      TrainingRequest accepted = TrainingRequest.parseFrom(blobs.get(done.getLineage().getRequest()));
      assertEquals(64, accepted.getRecipe().getImageSize(), id);
      assertEquals(normalization, accepted.getRecipe().getNormalization(), id);
    }
    assertEquals(List.of(), problems, String.join("\n", problems));

    // the user's validation split is used as is: 3 per class from val/
    JobStatus acceptedTv = acceptedStatus("photos-train-val");
    assertTrue(acceptedTv.getMessage().contains("accepted: 24 training and 9 validation images"), acceptedTv.getMessage());
    // the skipped file is counted in the ACCEPTED status and in the job report
    JobStatus acceptedCsv = acceptedStatus("photos-csv");
    assertTrue(acceptedCsv.getMessage().contains("1 unreadable file(s) skipped"), acceptedCsv.getMessage());
    assertTrue(acceptedCsv.getMessage().contains("broken.jpg is not a readable image: the file is empty"), acceptedCsv.getMessage());
    String report = Files.readString(blobRoot.resolve(JobPaths.reportDir("photos-csv")).resolve("report.md"), StandardCharsets.UTF_8);
    assertTrue(report.contains("1 unreadable file(s) skipped"), report);
  }

  private static TrainingRequest parse(String json) throws Exception {
    TrainingRequest.Builder b = TrainingRequest.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(json, b);
    return b.build();
  }

  private static JobStatus acceptedStatus(String job) throws Exception {
    return JobEventsSupport.allStatuses(client).stream()
        .filter(s -> s.getJobId().equals(job) && s.getState() == JobStatus.State.ACCEPTED).findFirst().orElseThrow();
  }
}
