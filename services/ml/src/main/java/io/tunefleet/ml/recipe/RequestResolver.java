package io.tunefleet.ml.recipe;

import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.augment.InputPipeline;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.proto.v1.UnfreezeSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates a {@link TrainingRequest} and fills in every default, so that all services work from one
 * fully specified request. Every bad field is reported at once, each by its path (e.g.
 * {@code recipe.lr_head: must be > 0, was -0.1}).
 */
public final class RequestResolver {
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** Minimum parameter ratio teacher/student of the default student. */
  public static final double MIN_COMPRESSION = 4.0;
  /** torchvision's ImageNet input size: the default for photos of mixed sizes. */
  public static final int DEFAULT_IMAGE_SIZE = 224;
  static final int MIN_IMAGE_SIZE = 8;
  static final int MAX_IMAGE_SIZE = 2048;

  private RequestResolver() {}

  /** The request with all defaults applied; throws {@link InvalidSpecException} naming every problem. */
  public static TrainingRequest resolve(TrainingRequest raw, PathPolicy paths) {
    List<FieldProblem> problems = new ArrayList<>();
    TrainingRequest.Builder r = raw.toBuilder();

    if (!JOB_ID.matcher(raw.getJobId()).matches()) {
      problems.add(new FieldProblem("job_id",
          "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit; was '" + raw.getJobId() + "'"));
    }

    DatasetSpec ds = raw.getDataset();
    switch (ds.getFormat()) {
      case "idx" -> {
        paths.resolve("dataset.images", ds.getImages(), true, problems);
        paths.resolve("dataset.labels", ds.getLabels(), true, problems);
      }
      case "image_folder", "csv" -> paths.locate("dataset.images", ds.getImages(), true, problems);
      default -> problems.add(new FieldProblem("dataset.format",
          "must be 'idx', 'image_folder' or 'csv', was '" + ds.getFormat() + "'"));
    }
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < ds.getClassesCount(); i++) {
      int c = ds.getClasses(i);
      if (c < 0 || c > 1_000_000) {
        problems.add(new FieldProblem("dataset.classes[" + i + "]", "must be a label >= 0, was " + c));
      } else if (!seen.add(c)) {
        problems.add(new FieldProblem("dataset.classes[" + i + "]", "label " + c + " is listed twice"));
      }
    }
    if (ds.getMaxPerClass() < 0) {
      problems.add(new FieldProblem("dataset.max_per_class", "must be >= 0 (0 = all), was " + ds.getMaxPerClass()));
    }

    int numClasses = raw.getNumClasses();
    if (numClasses < 2 || numClasses > 100_000) {
      problems.add(new FieldProblem("num_classes", "must be at least 2, was " + numClasses));
    } else if (ds.getClassesCount() > 0 && ds.getClassesCount() != numClasses) {
      problems.add(new FieldProblem("num_classes",
          "is " + numClasses + " but dataset.classes lists " + ds.getClassesCount() + " classes"));
    }
    if (ds.getClassNamesCount() > 0 && ds.getClassNamesCount() != numClasses) {
      problems.add(new FieldProblem("dataset.class_names",
          "names " + ds.getClassNamesCount() + " classes, num_classes is " + numClasses));
    }

    BaseModel base = raw.getBaseModel();
    Architecture requested = base.getArchitecture();
    Architecture teacher = null;
    // a checkpoint, TorchScript or safetensors base brings its own backbone (the head is the request's) and the
    // normalisation its inputs had: a fleet model records it, a torchvision import was trained on ImageNet
    io.tunefleet.ml.model.BaseModels.Description imported = io.tunefleet.ml.model.BaseModels.describe(base, paths, problems);
    Normalization baseNormalization = imported != null ? imported.normalization() : Normalization.HALF;
    if (imported != null) {
      teacher = imported.architecture().toBuilder()
          .setHead(requested.hasHead() ? requested.getHead() : HeadSpec.newBuilder().setKind(HeadSpec.Kind.LINEAR).build())
          .setNumClasses(numClasses).build();
    }
    if (teacher == null) {
      teacher = ResNets.resolve(requested.toBuilder().setNumClasses(numClasses).build());
    }
    teacher = ResNets.resolve(teacher);
    problems.addAll(ResNets.validate(teacher, "base_model.architecture"));
    r.setBaseModel(base.toBuilder().setArchitecture(teacher));

    // every optional scalar: its default and its range, from one table
    RequestFields.apply(r, problems);
    Recipe rc = raw.getRecipe();
    Recipe.Builder rb = r.getRecipeBuilder();
    if (rc.getAugmentationsCount() == 0) {
      rb.addAllAugmentations(AugmentationPipeline.defaultSpec());
    } else {
      try {
        AugmentationPipeline.fromSpec(rc.getAugmentationsList());
      } catch (InvalidSpecException e) {
        problems.addAll(e.problems());
      }
    }
    UnfreezeSchedule u = rc.getUnfreeze();
    UnfreezeSchedule.Builder ub = rb.getUnfreezeBuilder();
    if (u.getStagesCount() == 0) {
      ub.addAllStages(io.tunefleet.ml.train.UnfreezeSchedule.DEFAULT_STAGES);
    } else {
      Set<String> stages = new HashSet<>();
      for (int i = 0; i < u.getStagesCount(); i++) {
        String s = u.getStages(i);
        if (!io.tunefleet.ml.train.UnfreezeSchedule.DEFAULT_STAGES.contains(s)) {
          problems.add(new FieldProblem("recipe.unfreeze.stages[" + i + "]",
              "unknown stage '" + s + "'; known: " + io.tunefleet.ml.train.UnfreezeSchedule.DEFAULT_STAGES));
        } else if (!stages.add(s)) {
          problems.add(new FieldProblem("recipe.unfreeze.stages[" + i + "]", "stage '" + s + "' is listed twice"));
        }
      }
    }
    if (ub.getEpochsPerStage() > 0 && ub.getPlateauPatience() > 0) {
      problems.add(new FieldProblem("recipe.unfreeze.plateau_patience", "unfreezing follows epochs_per_stage ("
          + ub.getEpochsPerStage() + ") or plateau_patience (" + ub.getPlateauPatience() + "), not both: set one to 0"));
    }
    rc.getLrStagesMap().forEach((stage, lr) -> {
      if (!io.tunefleet.ml.model.ResNet.STAGES.contains(stage)) {
        problems.add(new FieldProblem("recipe.lr_stages." + stage,
            "unknown stage; known: " + io.tunefleet.ml.model.ResNet.STAGES));
      } else {
        check(problems, "recipe.lr_stages." + stage, RequestFields.Validator.positiveAtMost(10), lr);
      }
    });
    if (rc.hasImageSize()) {
      // unset stays unset here: the default depends on the dataset's images (withImageSize, at acceptance)
      check(problems, "recipe.image_size", RequestFields.Validator.intIn(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE), rc.getImageSize());
    }
    if (rc.hasEvalResizeSize()) {
      int min = rc.hasImageSize() ? rc.getImageSize() : MIN_IMAGE_SIZE;
      check(problems, "recipe.eval_resize_size", RequestFields.Validator.intIn(min, 2 * MAX_IMAGE_SIZE),
          rc.getEvalResizeSize());
    }
    try {
      rb.setNormalization((rc.hasNormalization() ? Normalization.fromId(rc.getNormalization()) : baseNormalization).id());
    } catch (IllegalArgumentException e) {
      problems.add(new FieldProblem("recipe.normalization", "must be one of "
          + java.util.Arrays.stream(Normalization.values()).map(Normalization::id).toList() + ", was '" + rc.getNormalization() + "'"));
    }

    Distillation ks = raw.getDistillation();
    Distillation.Builder kb = r.getDistillationBuilder();
    if (kb.getEnabled() && problems.stream().noneMatch(p -> p.field().startsWith("base_model") || p.field().equals("num_classes"))) {
      if (ks.hasStudent()) {
        Architecture student = ResNets.resolve(ks.getStudent().toBuilder().setNumClasses(numClasses)
            .setStem(ks.getStudent().getStem().isEmpty() ? teacher.getStem() : ks.getStudent().getStem()).build());
        problems.addAll(ResNets.validate(student, "distillation.student"));
        kb.setStudent(student);
      } else {
        try {
          kb.setStudent(ResNets.defaultStudent(teacher, MIN_COMPRESSION));
        } catch (IllegalArgumentException e) {
          problems.add(new FieldProblem("distillation.student", e.getMessage() + "; name a student explicitly or set distillation.enabled to false"));
        }
      }
    }

    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    return r.build();
  }

  /**
   * {@code request} with {@code recipe.image_size} filled in when the user left it out: the side of the square
   * every image of the dataset has ({@code datasetSquareSize}; the input pipeline is then the identity), else
   * {@value #DEFAULT_IMAGE_SIZE}; and {@code recipe.eval_resize_size}: the image size for such a dataset (resizing a
   * square to its own size is the identity), else torchvision's {@code round(image_size / 0.875)}.
   */
  public static TrainingRequest withImageSize(TrainingRequest request, int datasetSquareSize) {
    Recipe.Builder rc = request.getRecipe().toBuilder();
    if (!rc.hasImageSize()) {
      rc.setImageSize(datasetSquareSize >= MIN_IMAGE_SIZE && datasetSquareSize <= MAX_IMAGE_SIZE
          ? datasetSquareSize : DEFAULT_IMAGE_SIZE);
    }
    int size = rc.getImageSize();
    if (!rc.hasEvalResizeSize()) {
      rc.setEvalResizeSize(datasetSquareSize == size ? size : InputPipeline.defaultResizeSize(size));
    } else if (rc.getEvalResizeSize() < size) {
      throw new InvalidSpecException(List.of(new FieldProblem("recipe.eval_resize_size", "must be at least "
          + "recipe.image_size (" + size + ", chosen from the dataset), was " + rc.getEvalResizeSize())));
    }
    return request.toBuilder().setRecipe(rc).build();
  }

  /** {@code request} with the sizes it leaves out taken from {@code accepted}: how a replay is compared. */
  public static TrainingRequest withSizesOf(TrainingRequest request, TrainingRequest accepted) {
    Recipe.Builder rc = request.getRecipe().toBuilder();
    if (!rc.hasImageSize() && accepted.getRecipe().hasImageSize()) {
      rc.setImageSize(accepted.getRecipe().getImageSize());
    }
    if (!rc.hasEvalResizeSize() && accepted.getRecipe().hasEvalResizeSize()) {
      rc.setEvalResizeSize(accepted.getRecipe().getEvalResizeSize());
    }
    return request.toBuilder().setRecipe(rc).build();
  }

  /** A field outside the table whose value {@code validator} checks, with the table's wording. */
  private static void check(List<FieldProblem> problems, String field, RequestFields.Validator validator, Object value) {
    String problem = validator.check(null, value);
    if (problem != null) {
      problems.add(new FieldProblem(field, problem));
    }
  }
}
