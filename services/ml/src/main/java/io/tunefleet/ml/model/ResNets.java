package io.tunefleet.ml.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The ResNet family: resolves an {@link Architecture} to its defaults, validates it and builds it. */
public final class ResNets {
  private static final Map<String, int[]> FAMILY_BLOCKS = Map.of(
      "resnet10", new int[] {1, 1, 1, 1},
      "resnet18", new int[] {2, 2, 2, 2},
      "resnet34", new int[] {3, 4, 6, 3},
      "resnet50", new int[] {3, 4, 6, 3},
      "resnet101", new int[] {3, 4, 23, 3});

  /** Family names accepted in {@code Architecture.family}; "resnet" takes explicit blocks. */
  public static final List<String> FAMILIES =
      List.of("resnet10", "resnet18", "resnet34", "resnet50", "resnet101", "resnet");

  private ResNets() {}

  /** Fills in the family's defaults: blocks, base width 64, bottleneck for resnet50+, stem, 3 channels. */
  public static Architecture resolve(Architecture a) {
    Architecture.Builder b = a.toBuilder();
    String family = a.getFamily().isEmpty() ? "resnet18" : a.getFamily();
    b.setFamily(family);
    if (a.getBlocksCount() == 0 && FAMILY_BLOCKS.containsKey(family)) {
      for (int n : FAMILY_BLOCKS.get(family)) {
        b.addBlocks(n);
      }
    }
    if (family.equals("resnet50") || family.equals("resnet101")) {
      b.setBottleneck(true);
    }
    if (a.getBaseWidth() == 0) {
      b.setBaseWidth(64);
    }
    if (a.getStem().isEmpty()) {
      b.setStem("imagenet");
    }
    if (a.getHead().getKind() == HeadSpec.Kind.KIND_UNSPECIFIED) {
      b.setHead(a.getHead().toBuilder().setKind(HeadSpec.Kind.LINEAR));
    }
    if (a.getInputChannels() == 0) {
      b.setInputChannels(3);
    }
    return b.build();
  }

  /** Problems with a resolved architecture, each naming its field under {@code prefix}. */
  public static List<FieldProblem> validate(Architecture a, String prefix) {
    List<FieldProblem> problems = new ArrayList<>();
    if (!FAMILIES.contains(a.getFamily())) {
      problems.add(new FieldProblem(prefix + ".family",
          "unknown architecture '" + a.getFamily() + "'; known: " + String.join(", ", FAMILIES)));
    }
    if (!FAMILIES.contains(a.getFamily())) {
      return problems; // the shape follows from the family: nothing more to say until it is known
    }
    if (a.getBlocksCount() != 4) {
      problems.add(new FieldProblem(prefix + ".blocks", "needs 4 stages, was " + a.getBlocksList()));
    } else if (a.getBlocksList().stream().anyMatch(n -> n < 1 || n > 64)) {
      problems.add(new FieldProblem(prefix + ".blocks", "each stage needs 1..64 blocks, was " + a.getBlocksList()));
    }
    if (a.getBaseWidth() < 4 || a.getBaseWidth() > 256) {
      problems.add(new FieldProblem(prefix + ".base_width", "must be in 4..256, was " + a.getBaseWidth()));
    }
    if (!a.getStem().equals("imagenet") && !a.getStem().equals("small")) {
      problems.add(new FieldProblem(prefix + ".stem", "must be 'imagenet' or 'small', was '" + a.getStem() + "'"));
    }
    if (a.getInputChannels() != 3) {
      problems.add(new FieldProblem(prefix + ".input_channels", "must be 3 (grayscale is expanded), was " + a.getInputChannels()));
    }
    HeadSpec head = a.getHead();
    if (head.getHidden() < 0 || head.getHidden() > 65536) {
      problems.add(new FieldProblem(prefix + ".head.hidden", "must be in 0..65536, was " + head.getHidden()));
    }
    if (head.getDropout() < 0 || head.getDropout() >= 1) {
      problems.add(new FieldProblem(prefix + ".head.dropout", "must be in [0, 1), was " + head.getDropout()));
    }
    return problems;
  }

  /** A short human name, e.g. {@code resnet18} or {@code resnet[1,1,1,1]-w16-small}. */
  public static String name(Architecture a) {
    int[] family = FAMILY_BLOCKS.get(a.getFamily());
    boolean standard = family != null && a.getBlocksList().equals(java.util.Arrays.stream(family).boxed().toList())
        && a.getBaseWidth() == 64 && a.getStem().equals("imagenet");
    if (standard) {
      return a.getFamily();
    }
    return "resnet" + a.getBlocksList().toString().replace(" ", "") + (a.getBottleneck() ? "-bottleneck" : "")
        + "-w" + a.getBaseWidth() + "-" + a.getStem();
  }

  /**
   * Trainable parameters of a resolved architecture, computed from its shape alone (no engine needed),
   * exactly as {@link ParameterNames#countTrainable} counts a built network.
   */
  public static long parameterCount(Architecture a) {
    long w = a.getBaseWidth();
    long k = "imagenet".equals(a.getStem()) ? 7 : 3;
    long n = a.getInputChannels() * w * k * k + 2 * w;
    long in = w;
    for (int i = 0; i < 4; i++) {
      long width = w << i;
      long out = a.getBottleneck() ? width * 4 : width;
      for (int b = 0; b < a.getBlocks(i); b++) {
        boolean strided = b == 0 && i > 0;
        if (a.getBottleneck()) {
          n += in * width + 2 * width + width * width * 9 + 2 * width + width * out + 2 * out;
        } else {
          n += in * width * 9 + 2 * width + width * width * 9 + 2 * width;
        }
        if (strided || in != out) {
          n += in * out + 2 * out;
        }
        in = out;
      }
    }
    long classes = a.getNumClasses();
    if (a.getHead().getKind() == HeadSpec.Kind.MLP) {
      long h = a.getHead().getHidden() > 0 ? a.getHead().getHidden() : 256;
      n += in * h + h + 2 * h + h * classes + classes;
    } else {
      n += in * classes + classes;
    }
    return n;
  }

  /**
   * The default student of a teacher: one block per stage, the teacher's stem, a linear head, and the
   * widest base width at which the teacher has at least {@code minCompression} times its parameters.
   */
  public static Architecture defaultStudent(Architecture teacher, double minCompression) {
    long teacherParams = parameterCount(teacher);
    for (int width = teacher.getBaseWidth(); width >= 4; width--) {
      Architecture student = Architecture.newBuilder().setFamily("resnet").addAllBlocks(List.of(1, 1, 1, 1))
          .setBaseWidth(width).setStem(teacher.getStem()).setHead(HeadSpec.newBuilder().setKind(HeadSpec.Kind.LINEAR))
          .setNumClasses(teacher.getNumClasses()).setInputChannels(3).build();
      if (teacherParams >= minCompression * parameterCount(student)) {
        return student;
      }
    }
    throw new IllegalArgumentException("no student of width >= 4 is " + minCompression + "x smaller than " + name(teacher));
  }

  /** Builds and initialises the network for inputs of {@code imageSize} x {@code imageSize}. */
  public static ResNet build(Architecture architecture, NDManager manager, int imageSize) {
    ResNet net = new ResNet(resolve(architecture));
    net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, imageSize, imageSize));
    return net;
  }
}
