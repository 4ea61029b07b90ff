package io.tunefleet.ml.augment;

import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import io.tunefleet.proto.v1.AugmentOp;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Builds an augmentation pipeline from a request's {@code recipe.augmentations}, validating every op
 * and reporting every bad field at once; and derives the per-sample random source.
 *
 * <p>Ops (snake_case, Albumentations semantics; p defaults to the op's Albumentations default):
 * <pre>
 * horizontal_flip, vertical_flip, flip, transpose, random_rotate90   (no params, p 0.5)
 * gauss_noise         var_min 10, var_max 50, mean 0, per_channel 1            (p 0.5)
 * motion_blur         blur_min 3, blur_limit 7 (odd, <= 31), allow_shifted 1   (p 0.5)
 * median_blur         blur_min 3, blur_limit 7 (odd, <= 15)                    (p 0.5)
 * blur                blur_min 3, blur_limit 7 (integers in [3, 31])           (p 0.5)
 * resize              height, width (required)                                  (p 1)
 * random_resized_crop height, width (required), scale_min 0.08, scale_max 1,
 *                     ratio_min 0.75, ratio_max 4/3                             (p 1)
 * compose             children                                                  (p 1)
 * one_of              children (at least one with p > 0)                        (p 0.5)
 * </pre>
 */
public final class AugmentationPipeline {
  /** Field path of the augmentation list inside a TrainingRequest. */
  public static final String DEFAULT_FIELD = "recipe.augmentations";

  private static final Map<String, OpSpec> OPS = new LinkedHashMap<>();

  static {
    simple("horizontal_flip", HorizontalFlip.DEFAULT_P, HorizontalFlip::new);
    simple("vertical_flip", VerticalFlip.DEFAULT_P, VerticalFlip::new);
    simple("flip", Flip.DEFAULT_P, Flip::new);
    simple("transpose", Transpose.DEFAULT_P, Transpose::new);
    simple("random_rotate90", RandomRotate90.DEFAULT_P, RandomRotate90::new);
    op("gauss_noise", GaussNoise.DEFAULT_P, Set.of("var_min", "var_max", "mean", "per_channel"), r -> {
      double varMin = r.number("var_min", GaussNoise.DEFAULT_VAR_MIN, 0, Double.MAX_VALUE);
      double varMax = r.number("var_max", GaussNoise.DEFAULT_VAR_MAX, 0, Double.MAX_VALUE);
      double mean = r.number("mean", GaussNoise.DEFAULT_MEAN, -255, 255);
      boolean perChannel = r.flag("per_channel", true);
      r.ordered("var_min", varMin, "var_max", varMax);
      return r.ok() ? new GaussNoise(varMin, varMax, mean, perChannel, r.p) : null;
    });
    op("motion_blur", MotionBlur.DEFAULT_P, Set.of("blur_min", "blur_limit", "allow_shifted"), r -> {
      int lo = r.oddInteger("blur_min", MotionBlur.DEFAULT_BLUR_MIN, MotionBlur.MAX_BLUR_LIMIT);
      int hi = r.oddInteger("blur_limit", MotionBlur.DEFAULT_BLUR_LIMIT, MotionBlur.MAX_BLUR_LIMIT);
      boolean allowShifted = r.flag("allow_shifted", true);
      r.ordered("blur_min", lo, "blur_limit", hi);
      return r.ok() ? new MotionBlur(lo, hi, allowShifted, r.p) : null;
    });
    op("median_blur", MedianBlur.DEFAULT_P, Set.of("blur_min", "blur_limit"), r -> {
      int lo = r.oddInteger("blur_min", MedianBlur.DEFAULT_BLUR_MIN, MedianBlur.MAX_BLUR_LIMIT);
      int hi = r.oddInteger("blur_limit", MedianBlur.DEFAULT_BLUR_LIMIT, MedianBlur.MAX_BLUR_LIMIT);
      r.ordered("blur_min", lo, "blur_limit", hi);
      return r.ok() ? new MedianBlur(lo, hi, r.p) : null;
    });
    op("blur", Blur.DEFAULT_P, Set.of("blur_min", "blur_limit"), r -> {
      int lo = r.integer("blur_min", Blur.DEFAULT_BLUR_MIN, 3, Blur.MAX_BLUR_LIMIT);
      int hi = r.integer("blur_limit", Blur.DEFAULT_BLUR_LIMIT, 3, Blur.MAX_BLUR_LIMIT);
      r.ordered("blur_min", lo, "blur_limit", hi);
      return r.ok() ? new Blur(lo, hi, r.p) : null;
    });
    op("resize", Resize.DEFAULT_P, Set.of("height", "width"), r -> {
      int h = r.requiredInteger("height", 1, 16384);
      int w = r.requiredInteger("width", 1, 16384);
      return r.ok() ? new Resize(h, w, r.p) : null;
    });
    op("random_resized_crop", RandomResizedCrop.DEFAULT_P,
        Set.of("height", "width", "scale_min", "scale_max", "ratio_min", "ratio_max"), r -> {
          int h = r.requiredInteger("height", 1, 16384);
          int w = r.requiredInteger("width", 1, 16384);
          double scaleMin = r.positive("scale_min", RandomResizedCrop.DEFAULT_SCALE_MIN, 1);
          double scaleMax = r.positive("scale_max", RandomResizedCrop.DEFAULT_SCALE_MAX, 1);
          double ratioMin = r.positive("ratio_min", RandomResizedCrop.DEFAULT_RATIO_MIN, 100);
          double ratioMax = r.positive("ratio_max", RandomResizedCrop.DEFAULT_RATIO_MAX, 100);
          r.ordered("scale_min", scaleMin, "scale_max", scaleMax);
          r.ordered("ratio_min", ratioMin, "ratio_max", ratioMax);
          return r.ok()
              ? new RandomResizedCrop(h, w, scaleMin, scaleMax, ratioMin, ratioMax, r.p) : null;
        });
    OPS.put("compose", new OpSpec(Compose.DEFAULT_P, Set.of(), true, r -> new Compose(r.children, r.p)));
    OPS.put("one_of", new OpSpec(OneOf.DEFAULT_P, Set.of(), true, r -> {
      if (r.children.isEmpty()) {
        r.problem(r.path + ".children", "one_of needs at least one child");
        return null;
      }
      if (r.children.stream().noneMatch(child -> child.p() > 0)) {
        r.problem(r.path + ".children", "one_of needs at least one child with p > 0");
        return null;
      }
      return new OneOf(r.children, r.p);
    }));
  }

  private AugmentationPipeline() {}

  /** The op names fromSpec accepts. */
  public static Set<String> knownOps() {
    return OPS.keySet();
  }

  /** The augmentations a request gets when it names none: horizontal_flip with p = 0.5. */
  public static List<AugmentOp> defaultSpec() {
    return List.of(AugmentOp.newBuilder().setOp("horizontal_flip").setP(0.5).build());
  }

  /**
   * The pipeline for {@code recipe.augmentations}: a Compose with p = 1 of the ops in order.
   *
   * @throws InvalidSpecException naming every bad field, e.g.
   *     {@code recipe.augmentations[2].params.blur_limit: must be an odd integer >= 3, was 4}
   */
  public static Compose fromSpec(List<AugmentOp> ops) {
    return fromSpec(ops, DEFAULT_FIELD);
  }

  /** As {@link #fromSpec(List)}, with field paths starting at {@code field}. */
  public static Compose fromSpec(List<AugmentOp> ops, String field) {
    List<FieldProblem> problems = new ArrayList<>();
    List<ProbabilisticTransform> built = buildAll(ops, field, problems);
    if (!problems.isEmpty()) {
      throw new InvalidSpecException(problems);
    }
    return new Compose(built, 1.0);
  }

  /**
   * The random source for one sample: a deterministic 64-bit mix of the request seed, the job id
   * (UTF-8, FNV-1a), the epoch and the sample's index, each folded in through SplitMix64's
   * finaliser, so that a replay of (seed, job, epoch, sample) yields the same augmented bytes and
   * neighbouring samples get unrelated streams.
   */
  public static SplittableRandom rngFor(long seed, String jobId, int epoch, long sampleIndex) {
    long h = GaussNoise.mix64(seed ^ 0x5DEECE66DA3B9F1BL);
    h = GaussNoise.mix64(h ^ fnv1a64(jobId == null ? "" : jobId));
    h = GaussNoise.mix64(h + 0x9E3779B97F4A7C15L ^ epoch);
    h = GaussNoise.mix64(h + 0x9E3779B97F4A7C15L ^ sampleIndex);
    return new SplittableRandom(h);
  }

  private static long fnv1a64(String s) {
    long h = 0xCBF29CE484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001B3L;
    }
    return h;
  }

  private static List<ProbabilisticTransform> buildAll(List<AugmentOp> ops, String field,
      List<FieldProblem> problems) {
    List<ProbabilisticTransform> built = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      ProbabilisticTransform t = build(ops.get(i), field + "[" + i + "]", problems);
      if (t != null) {
        built.add(t);
      }
    }
    return built;
  }

  private static ProbabilisticTransform build(AugmentOp op, String path, List<FieldProblem> problems) {
    String name = op.getOp();
    OpSpec spec = OPS.get(name);
    if (spec == null) {
      problems.add(new FieldProblem(path + ".op", (name.isEmpty() ? "missing op name" : "unknown op '" + name + "'")
          + "; known: " + String.join(", ", OPS.keySet())));
      if (op.getChildrenCount() > 0) {
        buildAll(op.getChildrenList(), path + ".children", problems); // still report the children
      }
      return null;
    }
    int before = problems.size();
    double p = spec.defaultP;
    if (op.hasP()) {
      p = op.getP();
      if (!(p >= 0 && p <= 1)) {
        problems.add(new FieldProblem(path + ".p", "must be in [0, 1], was " + format(p)));
      }
    }
    for (String param : new TreeSet<>(op.getParamsMap().keySet())) {
      if (!spec.params.contains(param)) {
        problems.add(new FieldProblem(path + ".params." + param, spec.params.isEmpty()
            ? "unknown param '" + param + "'; op '" + name + "' takes none"
            : "unknown param '" + param + "' for op '" + name + "'; known: "
                + String.join(", ", new TreeSet<>(spec.params))));
      }
    }
    List<ProbabilisticTransform> children = List.of();
    if (spec.takesChildren) {
      children = buildAll(op.getChildrenList(), path + ".children", problems);
    } else if (op.getChildrenCount() > 0) {
      problems.add(new FieldProblem(path + ".children",
          "only compose and one_of take children; '" + name + "' has " + op.getChildrenCount()));
    }
    OpReader reader = new OpReader(path, op.getParamsMap(), p, children, problems, before);
    ProbabilisticTransform t = spec.factory.apply(reader);
    return problems.size() == before ? t : null;
  }

  private static void simple(String name, double defaultP, java.util.function.DoubleFunction<ProbabilisticTransform> ctor) {
    OPS.put(name, new OpSpec(defaultP, Set.of(), false, r -> r.ok() ? ctor.apply(r.p) : null));
  }

  private static void op(String name, double defaultP, Set<String> params,
      Function<OpReader, ProbabilisticTransform> factory) {
    OPS.put(name, new OpSpec(defaultP, params, false, factory));
  }

  static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private record OpSpec(double defaultP, Set<String> params, boolean takesChildren,
      Function<OpReader, ProbabilisticTransform> factory) {}

  /** Reads one op's params, recording a FieldProblem for each bad one instead of stopping. */
  private static final class OpReader {
    final String path;
    final Map<String, Double> params;
    final double p;
    final List<ProbabilisticTransform> children;
    final List<FieldProblem> problems;
    private final int before;

    OpReader(String path, Map<String, Double> params, double p, List<ProbabilisticTransform> children,
        List<FieldProblem> problems, int before) {
      this.path = path;
      this.params = params;
      this.p = p;
      this.children = children;
      this.problems = problems;
      this.before = before;
    }

    /** True while nothing about this op (p, params, children) has been found wrong. */
    boolean ok() {
      return problems.size() == before;
    }

    private boolean reported(String field) {
      for (int i = before; i < problems.size(); i++) {
        if (problems.get(i).field().equals(field)) {
          return true;
        }
      }
      return false;
    }

    void problem(String field, String message) {
      problems.add(new FieldProblem(field, message));
    }

    private String field(String name) {
      return path + ".params." + name;
    }

    double number(String name, double dflt, double min, double max) {
      if (!params.containsKey(name)) {
        return dflt;
      }
      double v = params.get(name);
      if (!(v >= min && v <= max)) {
        problem(field(name), "must be a number in [" + format(min) + ", " + format(max) + "], was " + format(v));
        return dflt;
      }
      return v;
    }

    double positive(String name, double dflt, double max) {
      if (!params.containsKey(name)) {
        return dflt;
      }
      double v = params.get(name);
      if (!(v > 0 && v <= max)) {
        problem(field(name), "must be a number in (0, " + format(max) + "], was " + format(v));
        return dflt;
      }
      return v;
    }

    int integer(String name, int dflt, int min, int max) {
      if (!params.containsKey(name)) {
        return dflt;
      }
      double v = params.get(name);
      if (!(v == Math.rint(v) && v >= min && v <= max)) {
        problem(field(name), "must be an integer in [" + min + ", " + max + "], was " + format(v));
        return dflt;
      }
      return (int) v;
    }

    int requiredInteger(String name, int min, int max) {
      if (!params.containsKey(name)) {
        problem(field(name), "is required (an integer in [" + min + ", " + max + "])");
        return min;
      }
      return integer(name, min, min, max);
    }

    int oddInteger(String name, int dflt, int max) {
      if (!params.containsKey(name)) {
        return dflt;
      }
      double v = params.get(name);
      if (!(v == Math.rint(v) && v >= 3 && ((long) v) % 2 == 1)) {
        problem(field(name), "must be an odd integer >= 3, was " + format(v));
        return dflt;
      }
      if (v > max) {
        problem(field(name), "must be an odd integer <= " + max + ", was " + format(v));
        return dflt;
      }
      return (int) v;
    }

    boolean flag(String name, boolean dflt) {
      if (!params.containsKey(name)) {
        return dflt;
      }
      double v = params.get(name);
      if (v != 0 && v != 1) {
        problem(field(name), "must be 0 or 1, was " + format(v));
        return dflt;
      }
      return v == 1;
    }

    /** Records a problem when lo > hi, on the field the request set (lo when it set both). */
    void ordered(String loName, double lo, String hiName, double hi) {
      if (lo <= hi || reported(field(loName)) || reported(field(hiName))) {
        return;
      }
      if (params.containsKey(loName)) {
        problem(field(loName), "must be <= " + hiName + " (" + format(hi) + "), was " + format(lo));
      } else {
        problem(field(hiName), "must be >= " + loName + " (" + format(lo) + "), was " + format(hi));
      }
    }
  }
}
