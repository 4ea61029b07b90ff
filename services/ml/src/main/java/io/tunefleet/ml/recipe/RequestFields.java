package io.tunefleet.ml.recipe;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.proto.v1.TrainingRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The request's optional scalar settings, each a typed constant with its path, default, allowed values and
 * meaning, in the spirit of Debezium's {@code Field}: {@link RequestResolver} applies them in this order (a
 * default may read a setting resolved before it), and {@code RequestFieldsTest} holds the README's request table
 * to them. Fields that need more than a default and a range (paths, classes, the base model, augmentations, stages)
 * are resolved by {@link RequestResolver} itself.
 */
public final class RequestFields {

  /** Checks one value; returns the problem in words ("must be in 1..1000, was 0"), or null when it is fine. */
  @FunctionalInterface
  public interface Validator {
    String check(TrainingRequest.Builder request, Object value);

    static Validator intIn(int min, int max) {
      return (r, v) -> ((Number) v).longValue() >= min && ((Number) v).longValue() <= max ? null
          : "must be in " + min + ".." + max + ", was " + v;
    }

    /** {@code (0, max]}. */
    static Validator positiveAtMost(double max) {
      return (r, v) -> ((Number) v).doubleValue() > 0 && ((Number) v).doubleValue() <= max ? null
          : "must be > 0 and <= " + max + ", was " + v;
    }

    /** {@code [min, max)}. */
    static Validator closedOpen(double min, double max) {
      return (r, v) -> ((Number) v).doubleValue() >= min && ((Number) v).doubleValue() < max ? null
          : "must be in [" + min + ", " + max + "), was " + v;
    }

    /** {@code [min, max]}. */
    static Validator closed(double min, double max) {
      return (r, v) -> ((Number) v).doubleValue() >= min && ((Number) v).doubleValue() <= max ? null
          : "must be in [" + min + ", " + max + "], was " + v;
    }

    /** {@code (min, max]}. */
    static Validator openClosed(double min, double max) {
      return (r, v) -> ((Number) v).doubleValue() > min && ((Number) v).doubleValue() <= max ? null
          : "must be in (" + Field.text(min) + ", " + Field.text(max) + "], was " + v;
    }

    static Validator oneOf(List<String> values) {
      return (r, v) -> values.contains(v) ? null : "must be one of " + values + ", was '" + v + "'";
    }

    Validator ANY = (r, v) -> null;
  }

  /**
   * One optional setting of a {@link TrainingRequest}.
   *
   * @param path the protobuf path, e.g. {@code recipe.lr_head} (what errors name)
   * @param defaultValue the value an unset field takes, from the request resolved so far
   * @param defaultText the default as the README's request table states it
   * @param validator what values are allowed
   * @param description what the setting means, in one line
   */
  public record Field(String path, Function<TrainingRequest.Builder, Object> defaultValue, String defaultText,
      Validator validator, String description) {

    static Field of(String path, Object fixedDefault, Validator validator, String description) {
      return new Field(path, r -> fixedDefault, text(fixedDefault), validator, description);
    }

    static Field derived(String path, Function<TrainingRequest.Builder, Object> defaultValue, String defaultText,
        Validator validator, String description) {
      return new Field(path, defaultValue, defaultText, validator, description);
    }

    static String text(Object v) {
      return v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e6 ? Long.toString(d.longValue())
          : v instanceof Double d && d < 1e-3 ? String.format(java.util.Locale.ROOT, "%.0e", d).replace("e-0", "e-")
          : String.valueOf(v);
    }

    /** The name in protobuf's JSON mapping, as users write it: {@code recipe.lrHead}. */
    public String jsonPath() {
      List<String> names = new ArrayList<>();
      Descriptor d = TrainingRequest.getDescriptor();
      for (String part : path.split("\\.")) {
        FieldDescriptor f = d.findFieldByName(part);
        names.add(f.getJsonName());
        d = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? f.getMessageType() : null;
      }
      return String.join(".", names);
    }

    /** Fills the field in when unset, then checks its value; a problem is added to {@code problems}. */
    void apply(TrainingRequest.Builder request, List<FieldProblem> problems) {
      Message.Builder owner = request;
      String[] parts = path.split("\\.");
      for (int i = 0; i < parts.length - 1; i++) {
        owner = owner.getFieldBuilder(owner.getDescriptorForType().findFieldByName(parts[i]));
      }
      FieldDescriptor f = owner.getDescriptorForType().findFieldByName(parts[parts.length - 1]);
      if (!owner.hasField(f)) {
        Object v = defaultValue.apply(request);
        owner.setField(f, f.getJavaType() == FieldDescriptor.JavaType.INT && v instanceof Number n ? n.intValue() : v);
      }
      String problem = validator.check(request, owner.getField(f));
      if (problem != null) {
        problems.add(new FieldProblem(path, problem));
      }
    }
  }

  private static final int MAX_EPOCHS = 1000;

  public static final Field EPOCHS = Field.of("recipe.epochs", 10, Validator.intIn(1, MAX_EPOCHS),
      "upper bound; early stopping may end sooner");
  public static final Field BATCH_SIZE = Field.of("recipe.batch_size", 64, Validator.intIn(2, 4096), "");
  public static final Field LR_HEAD = Field.of("recipe.lr_head", 0.05, Validator.positiveAtMost(10),
      "learning rate of the head");
  // measured (RESULTS.md §1, 5 seeds): no lower backbone rate beat one rate for all stages on the Fashion-MNIST
  // transfer task (0.01: -1.7 points, inside the noise; 1e-4: -9.0 points)
  public static final Field LR_BACKBONE = Field.derived("recipe.lr_backbone", r -> r.getRecipe().getLrHead(),
      "`lrHead`", Validator.positiveAtMost(10), "learning rate of every backbone stage");
  public static final Field LR_SCHEDULE = Field.of("recipe.lr_schedule", "cosine",
      Validator.oneOf(List.of("cosine", "step", "constant")), "cosine, step or constant");
  public static final Field WARMUP_EPOCHS = Field.of("recipe.warmup_epochs", 0,
      (r, v) -> Validator.intIn(0, Math.max(0, r.getRecipe().getEpochs() - 1)).check(r, v),
      "linear warm-up before the schedule, fewer than the epochs");
  public static final Field LR_STEP_EPOCHS = Field.of("recipe.lr_step_epochs", 3, Validator.intIn(1, MAX_EPOCHS),
      "the step schedule: multiply the rate by lr_step_gamma every N epochs");
  public static final Field LR_STEP_GAMMA = Field.of("recipe.lr_step_gamma", 0.1, Validator.positiveAtMost(1),
      "the step schedule's factor");
  public static final Field MOMENTUM = Field.of("recipe.momentum", 0.9, Validator.closedOpen(0, 1), "SGD momentum");
  public static final Field WEIGHT_DECAY = Field.of("recipe.weight_decay", 5e-4, Validator.closed(0, 0.1),
      "not applied to BatchNorm parameters or biases");
  // a smoothed teacher's soft targets carry less of the classes' similarity (Müller et al., 2019, "When does label
  // smoothing help?"); RESULTS.md §3 (5 seeds) measured no difference either way on Fashion-MNIST, so the
  // literature's choice stands: a job that distils trains its teacher without smoothing by default
  public static final Field LABEL_SMOOTHING = Field.derived("recipe.label_smoothing",
      r -> !r.getDistillation().hasEnabled() || r.getDistillation().getEnabled() ? 0.0 : 0.1,
      "0 when the job distils (the default), else 0.1", Validator.closedOpen(0, 1), "label smoothing of the teacher's loss");
  public static final Field EARLY_STOPPING_PATIENCE = Field.of("recipe.early_stopping_patience", 5,
      Validator.intIn(1, MAX_EPOCHS), "epochs without a better validation macro-F1 (of equal ones, the lower "
          + "validation loss is better) before stopping");
  public static final Field BALANCED_SAMPLING = Field.of("recipe.balanced_sampling", false, Validator.ANY,
      "class-balanced weighted sampling (weight 1/class count)");
  // measured (RESULTS.md §1, 5 seeds): progressive unfreezing was no better than training everything from the
  // start, and unfreezing on plateaus was worse (-1.0 point)
  public static final Field EPOCHS_PER_STAGE = Field.of("recipe.unfreeze.epochs_per_stage", 0,
      Validator.intIn(0, MAX_EPOCHS), "epochs between unfreezing steps; 0 = everything trainable from the start");
  public static final Field STAGES_PER_STEP = Field.of("recipe.unfreeze.stages_per_step", 1, Validator.intIn(1, 5),
      "stages unfrozen per step");
  public static final Field PLATEAU_PATIENCE = Field.of("recipe.unfreeze.plateau_patience", 0,
      Validator.intIn(0, MAX_EPOCHS), "unfreeze when validation macro-F1 plateaus this many epochs; 0 = off");
  public static final Field PLATEAU_MIN_DELTA = Field.of("recipe.unfreeze.plateau_min_delta", 0.0,
      Validator.closed(0, 1), "the macro-F1 gain that counts as progress");
  public static final Field FROZEN_BATCH_NORM = Field.of("recipe.unfreeze.frozen_batch_norm", "adapt",
      Validator.oneOf(List.of("adapt", "fixed")), "BatchNorm of frozen stages: running statistics adapt (training "
      + "mode) or stay fixed (inference mode)");
  public static final Field SEED = Field.of("recipe.seed", 42L, Validator.ANY, "split, sampling, augmentation");
  public static final Field LEAD_EPOCHS = Field.of("recipe.lead_epochs", 2, Validator.intIn(1, 10),
      "epochs the augmenter may run ahead of evaluation (backpressure)");
  public static final Field CURRICULUM_ENABLED = Field.of("recipe.curriculum.enabled", false, Validator.ANY,
      "progressive data expansion: the easiest samples first");
  public static final Field CURRICULUM_START = Field.of("recipe.curriculum.start_fraction", 0.8,
      Validator.openClosed(0, 1), "the fraction of the training split the first epochs use");
  public static final Field CURRICULUM_STEP = Field.of("recipe.curriculum.step_fraction", 0.1,
      Validator.closed(0, 1), "the fraction added at each step");
  public static final Field CURRICULUM_EVERY = Field.of("recipe.curriculum.every_epochs", 5,
      Validator.intIn(1, MAX_EPOCHS), "epochs between steps");
  public static final Field DIAGNOSTICS_EVERY = Field.of("recipe.diagnostics_every", 50, Validator.intIn(0, 1_000_000),
      "gradient diagnostics every N steps; 0 = off");
  public static final Field TRAIN_CROP = Field.of("recipe.train_crop", "random_resized_crop",
      Validator.oneOf(List.of("random_resized_crop", "center_crop")), "how a training photo becomes imageSize²");
  public static final Field DISTILLATION_ENABLED = Field.of("distillation.enabled", true, Validator.ANY,
      "false: the finished model is the teacher alone");
  public static final Field TEMPERATURE = Field.of("distillation.temperature", 3.0, Validator.positiveAtMost(100), "T");
  public static final Field ALPHA = Field.of("distillation.alpha", 0.7, Validator.closed(0, 1),
      "weight of the KL term");
  public static final Field DISTILLATION_EPOCHS = Field.derived("distillation.epochs", r -> r.getRecipe().getEpochs(),
      "`recipe.epochs`", Validator.intIn(1, MAX_EPOCHS), "the student's epochs");
  public static final Field DISTILLATION_LR = Field.of("distillation.lr", 0.05, Validator.positiveAtMost(10),
      "student learning rate");
  public static final Field VALIDATION_FRACTION = Field.of("dataset.validation_fraction", 0.1,
      Validator.openClosed(0, 0.5), "held out per class (stratified, seeded)");
  public static final Field SKIP_UNREADABLE = Field.of("dataset.skip_unreadable", false, Validator.ANY,
      "leave out photos that cannot be used, instead of failing the job");

  /** Every field, in the order they are resolved (a derived default reads only fields before it). */
  public static final List<Field> ALL = List.of(VALIDATION_FRACTION, SKIP_UNREADABLE, EPOCHS, BATCH_SIZE, LR_HEAD,
      LR_BACKBONE, LR_SCHEDULE, WARMUP_EPOCHS, LR_STEP_EPOCHS, LR_STEP_GAMMA, MOMENTUM, WEIGHT_DECAY, LABEL_SMOOTHING,
      EARLY_STOPPING_PATIENCE, BALANCED_SAMPLING, EPOCHS_PER_STAGE, STAGES_PER_STEP, PLATEAU_PATIENCE,
      PLATEAU_MIN_DELTA, FROZEN_BATCH_NORM, SEED, LEAD_EPOCHS, CURRICULUM_ENABLED, CURRICULUM_START, CURRICULUM_STEP,
      CURRICULUM_EVERY, DIAGNOSTICS_EVERY, TRAIN_CROP, DISTILLATION_ENABLED, TEMPERATURE, ALPHA, DISTILLATION_EPOCHS,
      DISTILLATION_LR);

  private RequestFields() {}

  /** Fills in every unset field of {@code request} and checks every value, naming each problem. */
  static void apply(TrainingRequest.Builder request, List<FieldProblem> problems) {
    for (Field f : ALL) {
      f.apply(request, problems);
    }
  }
}
