package io.tunefleet.ml.export;

import ai.djl.ndarray.NDArray;
import com.google.protobuf.ByteString;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.onnx.OnnxProto.AttributeProto;
import io.tunefleet.onnx.OnnxProto.GraphProto;
import io.tunefleet.onnx.OnnxProto.ModelProto;
import io.tunefleet.onnx.OnnxProto.NodeProto;
import io.tunefleet.onnx.OnnxProto.OperatorSetIdProto;
import io.tunefleet.onnx.OnnxProto.StringStringEntryProto;
import io.tunefleet.onnx.OnnxProto.TensorProto;
import io.tunefleet.onnx.OnnxProto.TensorShapeProto;
import io.tunefleet.onnx.OnnxProto.TypeProto;
import io.tunefleet.onnx.OnnxProto.ValueInfoProto;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a fleet ResNet as an ONNX model (opset 13): the graph is built from the {@link Architecture} in
 * torchvision's layout (Conv, BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm), and the
 * initializers carry torchvision's parameter names, so a node and its weights read like the PyTorch module.
 *
 * <p>Input {@value #INPUT}: (N, 3, H, W) float32, already normalised as the model card says; output
 * {@value #OUTPUT}: (N, classes) unnormalised scores. N is symbolic; H and W are the training size.
 *
 * <p>BatchNorm stays a BatchNormalization node (inference form, epsilon 1e-5) instead of being folded into the
 * convolution: the logits then match the fleet's to float rounding, and runtimes fold it themselves.
 */
public final class OnnxExport {
  /** The input's name in the graph. */
  public static final String INPUT = "input";
  /** The output's name in the graph. */
  public static final String OUTPUT = "logits";
  /** The operator set written: 13 is served by every ONNX Runtime since 1.6 and by Triton's ORT backend. */
  public static final int OPSET = 13;
  /** IR version 7 is the one that goes with opset 13. */
  static final int IR_VERSION = 7;
  private static final float BN_EPSILON = 1e-5f;

  private OnnxExport() {}

  /**
   * The ONNX model of {@code architecture} (resolved) with {@code weights} by torchvision name.
   *
   * @param metadata key/value pairs stored in the model's metadata_props (class names, normalisation…)
   * @throws IllegalArgumentException naming every weight that is missing or mis-shaped
   */
  public static byte[] export(Architecture architecture, int height, int width, Map<String, NDArray> weights,
      Map<String, String> metadata) {
    Architecture a = ResNets.resolve(architecture);
    Builder g = new Builder(weights);
    boolean imagenet = "imagenet".equals(a.getStem());
    String x = g.conv("conv1", INPUT, imagenet ? 7 : 3, imagenet ? 2 : 1);
    x = g.relu("relu", g.batchNorm("bn1", x));
    if (imagenet) {
      x = g.node("MaxPool", "maxpool", List.of(x), List.of(ints("kernel_shape", 3, 3), ints("strides", 2, 2),
          ints("pads", 1, 1, 1, 1)));
    }
    int in = a.getBaseWidth();
    for (int i = 0; i < 4; i++) {
      int planes = a.getBaseWidth() << i;
      int out = a.getBottleneck() ? planes * 4 : planes;
      for (int b = 0; b < a.getBlocks(i); b++) {
        int stride = b == 0 && i > 0 ? 2 : 1;
        x = g.residualUnit("layer" + (i + 1) + "." + b, x, a.getBottleneck(), stride, stride != 1 || in != out);
        in = out;
      }
    }
    x = g.node("GlobalAveragePool", "avgpool", List.of(x), List.of());
    x = g.node("Flatten", "flatten", List.of(x), List.of(ints1("axis", 1)));
    if (a.getHead().getKind() == HeadSpec.Kind.MLP) {
      // fc.0 Linear, fc.1 BatchNorm1d, fc.2 ReLU, fc.3 Dropout (the identity at inference), fc.4 Linear
      x = g.gemm("fc.0", x, null);
      x = g.relu("fc.2", g.batchNorm("fc.1", x));
      g.gemm("fc.4", x, OUTPUT);
    } else {
      g.gemm("fc", x, OUTPUT);
    }
    g.checkComplete(ResNets.name(a));

    GraphProto.Builder graph = GraphProto.newBuilder().setName(ResNets.name(a))
        .addAllNode(g.nodes).addAllInitializer(g.initializers)
        .addInput(tensorInfo(INPUT, "N", 3, height, width))
        .addOutput(tensorInfo(OUTPUT, "N", a.getNumClasses()));
    ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("tunefleet")
        .setProducerVersion("0.1.0").setDomain("io.tunefleet").setModelVersion(1)
        .setDocString(ResNets.name(a) + ", " + a.getNumClasses() + " classes; input " + INPUT + " (N,3," + height + ","
            + width + ") normalised as model.json says; output " + OUTPUT + " (N," + a.getNumClasses() + ")")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(graph);
    metadata.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return model.build().toByteArray();
  }

  /** Nodes and initializers under construction; remembers which weights were used and which were wrong. */
  private static final class Builder {
    private final Map<String, NDArray> weights;
    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();
    private final Set<String> missing = new LinkedHashSet<>();

    Builder(Map<String, NDArray> weights) {
      this.weights = weights;
    }

    String residualUnit(String p, String x, boolean bottleneck, int stride, boolean downsample) {
      String y;
      if (bottleneck) {
        // torchvision v1.5: the stride sits on the 3x3 convolution
        y = relu(p + ".relu1", batchNorm(p + ".bn1", conv(p + ".conv1", x, 1, 1)));
        y = relu(p + ".relu2", batchNorm(p + ".bn2", conv(p + ".conv2", y, 3, stride)));
        y = batchNorm(p + ".bn3", conv(p + ".conv3", y, 1, 1));
      } else {
        y = relu(p + ".relu1", batchNorm(p + ".bn1", conv(p + ".conv1", x, 3, stride)));
        y = batchNorm(p + ".bn2", conv(p + ".conv2", y, 3, 1));
      }
      // the fleet takes every stride-th pixel and then a stride-1 1x1 convolution (a oneDNN workaround): in ONNX
      // that is exactly torchvision's strided 1x1 convolution
      String shortcut = downsample ? batchNorm(p + ".downsample.1", conv(p + ".downsample.0", x, 1, stride)) : x;
      return relu(p + ".relu", node("Add", p + ".add", List.of(y, shortcut), List.of()));
    }

    String conv(String name, String x, int kernel, int stride) {
      String w = initializer(name + ".weight");
      int pad = kernel / 2;
      return node("Conv", name, List.of(x, w), List.of(ints("kernel_shape", kernel, kernel),
          ints("strides", stride, stride), ints("pads", pad, pad, pad, pad)));
    }

    String batchNorm(String name, String x) {
      List<String> in = List.of(x, initializer(name + ".weight"), initializer(name + ".bias"),
          initializer(name + ".running_mean"), initializer(name + ".running_var"));
      return node("BatchNormalization", name, in,
          List.of(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT)
              .setF(BN_EPSILON).build()));
    }

    String relu(String name, String x) {
      return node("Relu", name, List.of(x), List.of());
    }

    /** A Linear layer: y = x·Wᵀ + b, torch's weight layout (out, in). */
    String gemm(String name, String x, String output) {
      List<String> in = List.of(x, initializer(name + ".weight"), initializer(name + ".bias"));
      return node("Gemm", name, in, List.of(ints1("transB", 1)), output);
    }

    String node(String op, String name, List<String> inputs, List<AttributeProto> attributes) {
      return node(op, name, inputs, attributes, null);
    }

    String node(String op, String name, List<String> inputs, List<AttributeProto> attributes, String output) {
      String out = output != null ? output : name;
      nodes.add(NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(out)
          .addAllAttribute(attributes).build());
      return out;
    }

    /** Adds the weight {@code name} as a float32 initializer (little-endian raw data) and returns its name. */
    String initializer(String name) {
      NDArray w = weights.get(name);
      if (w == null) {
        missing.add(name);
        return name;
      }
      TensorProto.Builder t = TensorProto.newBuilder().setName(name)
          .setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(Float32.littleEndian(w, name)));
      for (long d : w.getShape().getShape()) {
        t.addDims(d);
      }
      initializers.add(t.build());
      return name;
    }

    void checkComplete(String architecture) {
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("weights do not match " + architecture + ": missing " + missing);
      }
    }
  }

  private static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  private static AttributeProto ints1(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  /** A float32 tensor's type; a String dimension is symbolic (dim_param), an Integer is fixed. */
  private static ValueInfoProto tensorInfo(String name, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        dim.setDimParam(s);
      } else {
        dim.setDimValue(((Number) d).longValue());
      }
      shape.addDim(dim);
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
        .build();
  }
}
