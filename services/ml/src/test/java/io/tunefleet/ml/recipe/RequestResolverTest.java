package io.tunefleet.ml.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequestResolverTest {
  @TempDir Path root;

  private TrainingRequest good() throws Exception {
    Files.write(root.resolve("images"), new byte[] {0});
    Files.write(root.resolve("labels"), new byte[] {0});
    return TrainingRequest.newBuilder().setJobId("job-1").setNumClasses(5)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages(root.resolve("images").toString())
            .setLabels(root.resolve("labels").toString()).addAllClasses(List.of(1, 3, 5, 7, 9)))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet10")
            .setBaseWidth(16).setStem("small")))
        .build();
  }

  @Test
  void fillsEveryDefault() throws Exception {
    TrainingRequest r = RequestResolver.resolve(good(), new PathPolicy(List.of(root)));
    Recipe rc = r.getRecipe();
    assertEquals(10, rc.getEpochs());
    assertEquals(64, rc.getBatchSize());
    assertEquals(0.9, rc.getMomentum(), 1e-12);
    // the default job distils: its teacher trains without label smoothing; a job that does not distil uses 0.1
    assertEquals(0.0, rc.getLabelSmoothing(), 1e-12);
    assertEquals(0.1, RequestResolver.resolve(good().toBuilder().setDistillation(Distillation.newBuilder().setEnabled(false))
        .build(), new PathPolicy(List.of(root))).getRecipe().getLabelSmoothing(), 1e-12);
    assertEquals(5, rc.getEarlyStoppingPatience());
    assertEquals(0.1, r.getDataset().getValidationFraction(), 1e-12);
    assertEquals(1, rc.getAugmentationsCount());
    assertEquals(List.of(1, 1, 1, 1), r.getBaseModel().getArchitecture().getBlocksList());
    assertEquals(5, r.getBaseModel().getArchitecture().getNumClasses());
    assertTrue(r.getDistillation().getEnabled());
    assertEquals(3.0, r.getDistillation().getTemperature(), 1e-12);
    assertEquals(0.7, r.getDistillation().getAlpha(), 1e-12);
    assertTrue(r.getDistillation().hasStudent());
    // resolving twice changes nothing: every service sees the same request
    assertEquals(r, RequestResolver.resolve(r, new PathPolicy(List.of(root))));
  }

  @Test
  void namesEveryBadFieldAtOnce() throws Exception {
    TrainingRequest bad = good().toBuilder().setNumClasses(1)
        .setDataset(good().getDataset().toBuilder().setImages(root.resolve("missing").toString()))
        .setBaseModel(BaseModel.newBuilder().setArchitecture(Architecture.newBuilder().setFamily("resnet7")))
        .setRecipe(Recipe.newBuilder().setLrHead(-0.1).setBatchSize(0))
        .build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(bad, new PathPolicy(List.of(root))));
    Set<String> fields = e.problems().stream().map(FieldProblem::field).collect(Collectors.toSet());
    assertTrue(fields.containsAll(Set.of("dataset.images", "num_classes", "base_model.architecture.family",
        "recipe.lr_head", "recipe.batch_size")), fields.toString());
    assertTrue(e.getMessage().contains("recipe.lr_head: must be > 0"), e.getMessage());
    assertTrue(e.getMessage().contains("unknown architecture 'resnet7'"), e.getMessage());
  }

  @Test
  void unfreezingFollowsEpochsOrPlateausNotBoth() throws Exception {
    TrainingRequest both = good().toBuilder().setRecipe(Recipe.newBuilder()
        .setUnfreeze(io.tunefleet.proto.v1.UnfreezeSchedule.newBuilder().setEpochsPerStage(2).setPlateauPatience(3)
            .setPlateauMinDelta(2.0))).build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(both, new PathPolicy(List.of(root))));
    assertEquals(Set.of("recipe.unfreeze.plateau_patience", "recipe.unfreeze.plateau_min_delta"),
        e.problems().stream().map(FieldProblem::field).collect(Collectors.toSet()), e.getMessage());
    assertTrue(e.getMessage().contains("epochs_per_stage (2) or plateau_patience (3), not both"), e.getMessage());
    TrainingRequest plateau = good().toBuilder().setRecipe(Recipe.newBuilder()
        .setUnfreeze(io.tunefleet.proto.v1.UnfreezeSchedule.newBuilder().setPlateauPatience(2))).build();
    var u = RequestResolver.resolve(plateau, new PathPolicy(List.of(root))).getRecipe().getUnfreeze();
    assertEquals(2, u.getPlateauPatience());
    assertEquals(0, u.getEpochsPerStage());
    assertEquals(0.0, u.getPlateauMinDelta(), 0);
  }

  @Test
  void refusesPathsOutsideTheAllowedRootsAndOtherSchemes() throws Exception {
    Path other = Files.createTempDirectory("outside");
    Files.write(other.resolve("images"), new byte[] {0});
    TrainingRequest escape = good().toBuilder().setDataset(good().getDataset().toBuilder()
        .setImages(root.resolve("../" + root.relativize(other.resolve("images"))).toString())
        .setLabels("http://example.com/labels")).build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(escape, new PathPolicy(List.of(root))));
    assertTrue(e.getMessage().contains("outside the allowed roots"), e.getMessage());
    assertTrue(e.getMessage().contains("scheme 'http' is not allowed"), e.getMessage());
  }

  @Test
  void boundsS3DatasetsByTheObjectStoragePrefixesAmongTheDataRoots() throws Exception {
    PathPolicy paths = new PathPolicy(List.of(root), List.of("s3://photos-bucket/teams/vision"));
    TrainingRequest base = good();
    java.util.function.Function<String, TrainingRequest> folder = images -> base.toBuilder().setDataset(
        DatasetSpec.newBuilder().setFormat("image_folder").setImages(images)).build();

    for (String inside : List.of("s3://photos-bucket/teams/vision/flowers", "s3://photos-bucket/teams/vision/a/./b/",
        "s3://photos-bucket/teams/vision/a/../flowers", "s3://photos-bucket/teams/vision", "s3://photos-bucket/teams/vision/my photos")) {
      assertEquals(inside, RequestResolver.resolve(folder.apply(inside), paths).getDataset().getImages(),
          "an s3:// prefix under a data root is accepted as written");
    }
    java.util.Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("s3://photos-bucket/teams/visionary/x", "lies outside the allowed roots [s3://photos-bucket/teams/vision/]");
    refused.put("s3://other-bucket/teams/vision/x", "lies outside the allowed roots");
    refused.put("s3://photos-bucket/teams/vision/../audio/x", "lies outside the allowed roots");
    refused.put("s3://photos-bucket/teams/vision/../../../../x", "'..' segments climb above the bucket");
    refused.put("s3://Photos_Bucket/teams/vision/x", "bucket 'Photos_Bucket' is not a valid S3 bucket name");
    refused.put("s3:///teams/vision/x", "bucket '' is not a valid S3 bucket name");
    refused.put("S3://photos-bucket/teams/vision/x", "must start with s3:// (lowercase)");
    refused.forEach((images, problem) -> {
      InvalidSpecException e = assertThrows(InvalidSpecException.class,
          () -> RequestResolver.resolve(folder.apply(images), paths), images);
      assertEquals("dataset.images", e.problems().get(0).field(), images);
      assertTrue(e.problems().get(0).problem().contains(problem), images + ": " + e.getMessage());
    });
    // without an s3:// data root, no object-storage dataset is readable at all
    InvalidSpecException none = assertThrows(InvalidSpecException.class, () -> RequestResolver.resolve(
        folder.apply("s3://photos-bucket/teams/vision/flowers"), new PathPolicy(List.of(root))));
    assertTrue(none.getMessage().contains("no s3:// prefix is among FLEET_DATA_ROOTS"), none.getMessage());
    // an IDX pair is read from local files only
    TrainingRequest idx = base.toBuilder().setDataset(base.getDataset().toBuilder()
        .setImages("s3://photos-bucket/teams/vision/train-images-idx3-ubyte.gz")).build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> RequestResolver.resolve(idx, paths));
    assertTrue(e.getMessage().contains("dataset.images: scheme 's3' is not allowed here"), e.getMessage());
  }

  @Test
  void refusesJobIdsThatCouldEscapeTheBlobStore() throws Exception {
    TrainingRequest bad = good().toBuilder().setJobId("../../etc").build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(bad, new PathPolicy(List.of(root))));
    assertEquals("job_id", e.problems().get(0).field());
  }

  @Test
  void imageSizeNormalizationAndTrainCropAreCheckedByName() throws Exception {
    for (int size : new int[] {0, 10_000}) {
      TrainingRequest bad = good().toBuilder().setRecipe(Recipe.newBuilder().setImageSize(size).setNormalization("zscore")
          .setTrainCrop("squash")).build();
      InvalidSpecException e = assertThrows(InvalidSpecException.class,
          () -> RequestResolver.resolve(bad, new PathPolicy(List.of(root))));
      assertTrue(e.getMessage().contains("recipe.image_size: must be in 8..2048, was " + size), e.getMessage());
      assertTrue(e.getMessage().contains("recipe.normalization: must be one of [imagenet, half], was 'zscore'"), e.getMessage());
      assertTrue(e.getMessage().contains("recipe.train_crop: must be one of [random_resized_crop, center_crop], was 'squash'"),
          e.getMessage());
    }
  }

  @Test
  void normalizationDefaultsToWhatTheBaseModelWasTrainedWith() throws Exception {
    PathPolicy paths = new PathPolicy(List.of(root));
    Recipe plain = RequestResolver.resolve(good(), paths).getRecipe();
    assertEquals("half", plain.getNormalization(), "random initialisation keeps the fleet's [-1, 1]");
    assertEquals("random_resized_crop", plain.getTrainCrop());
    assertTrue(!plain.hasImageSize(), "the image size is chosen from the dataset at acceptance");
    assertEquals("imagenet", RequestResolver.resolve(good().toBuilder().setRecipe(Recipe.newBuilder().setNormalization("IMAGENET"))
        .build(), paths).getRecipe().getNormalization());

    // a fleet model trained with ImageNet statistics records them; a job starting from it inherits them
    Architecture arch = io.tunefleet.ml.model.ResNets.resolve(Architecture.newBuilder().setFamily("resnet").addAllBlocks(List.of(1, 1, 1, 1))
        .setBaseWidth(16).setStem("small").setNumClasses(3).build());
    try (io.tunefleet.ml.train.TrainingSession s = io.tunefleet.ml.train.TrainingSession.create(arch, 16,
        io.tunefleet.ml.data.Normalization.IMAGENET, new io.tunefleet.ml.train.TrainingSession.Config(0.1f, 0.1f, 0.9f, 0f,
            new io.tunefleet.ml.train.LabelSmoothingLoss(0f), io.tunefleet.ml.train.UnfreezeSchedule.everythingTrainable(), 1),
        ai.djl.Device.cpu(), 0)) {
      Files.write(root.resolve("base.model"), s.save(io.tunefleet.proto.v1.ModelManifest.getDefaultInstance(), false));
    }
    io.tunefleet.proto.v1.ModelManifest m = io.tunefleet.ml.model.ModelFile.readManifest(root.resolve("base.model"));
    assertEquals("imagenet", m.getNormalization());
    assertEquals(16, m.getInputHeight());
    TrainingRequest chained = good().toBuilder().setBaseModel(BaseModel.newBuilder().setCheckpoint(root.resolve("base.model").toString()))
        .build();
    assertEquals("imagenet", RequestResolver.resolve(chained, paths).getRecipe().getNormalization());
  }

  @Test
  void imageSizeDefaultsToTheDatasetsSquareElse224() throws Exception {
    TrainingRequest r = RequestResolver.resolve(good(), new PathPolicy(List.of(root)));
    assertEquals(28, RequestResolver.withImageSize(r, 28).getRecipe().getImageSize());
    assertEquals(224, RequestResolver.withImageSize(r, 0).getRecipe().getImageSize());
    TrainingRequest chosen = r.toBuilder().setRecipe(r.getRecipe().toBuilder().setImageSize(64)).build();
    assertEquals(64, RequestResolver.withImageSize(chosen, 28).getRecipe().getImageSize());
  }

  @Test
  void evalResizeSizeIsTheIdentityForSquaresOfTheImageSizeElseTorchvisions() throws Exception {
    TrainingRequest r = RequestResolver.resolve(good(), new PathPolicy(List.of(root)));
    assertEquals(28, RequestResolver.withImageSize(r, 28).getRecipe().getEvalResizeSize(), "28x28 squares: identity");
    assertEquals(256, RequestResolver.withImageSize(r, 0).getRecipe().getEvalResizeSize(), "photos at 224: 256");
    TrainingRequest at64 = r.toBuilder().setRecipe(r.getRecipe().toBuilder().setImageSize(64)).build();
    assertEquals(73, RequestResolver.withImageSize(at64, 28).getRecipe().getEvalResizeSize(), "round(64 / 0.875)");
    TrainingRequest chosen = r.toBuilder().setRecipe(r.getRecipe().toBuilder().setEvalResizeSize(300)).build();
    assertEquals(300, RequestResolver.withImageSize(chosen, 0).getRecipe().getEvalResizeSize());

    TrainingRequest tooSmall = good().toBuilder().setRecipe(Recipe.newBuilder().setImageSize(64).setEvalResizeSize(32))
        .build();
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> RequestResolver.resolve(tooSmall, new PathPolicy(List.of(root))));
    assertTrue(e.getMessage().contains("recipe.eval_resize_size"), e.getMessage());
    TrainingRequest belowChosen = r.toBuilder().setRecipe(r.getRecipe().toBuilder().setEvalResizeSize(100)).build();
    e = assertThrows(InvalidSpecException.class, () -> RequestResolver.withImageSize(belowChosen, 0));
    assertTrue(e.getMessage().contains("recipe.eval_resize_size: must be at least recipe.image_size (224"), e.getMessage());
  }

  @Test
  void aReplayLeavingOutTheChosenSizesIsTheSameRequest() throws Exception {
    TrainingRequest r = RequestResolver.resolve(good(), new PathPolicy(List.of(root)));
    TrainingRequest accepted = RequestResolver.withImageSize(r, 0);
    assertEquals(accepted, RequestResolver.withSizesOf(r, accepted));
    TrainingRequest other = r.toBuilder().setRecipe(r.getRecipe().toBuilder().setImageSize(96)).build();
    assertTrue(!accepted.equals(RequestResolver.withSizesOf(other, accepted)), "a different size is another request");
  }
}
