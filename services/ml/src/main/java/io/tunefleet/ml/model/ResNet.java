package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djl.nn.core.Linear;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.HeadSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ResNet with torchvision's layout — stem (conv1, bn1[, max-pool]), layer1..layer4, global average
 * pool, head (fc) — so parameters carry torchvision's names and stages can be frozen one by one.
 */
public final class ResNet extends AbstractBlock {
  /** Stage names from the input to the output; the unit of freezing and of parameter groups. */
  public static final List<String> STAGES = List.of("stem", "layer1", "layer2", "layer3", "layer4", "head");

  private final Architecture architecture;
  private final boolean imagenetStem;
  private final Block conv1;
  private final Block bn1;
  private final List<Stage> layers = new ArrayList<>();
  private final Block fc;
  private final int featureChannels;

  ResNet(Architecture architecture) {
    this.architecture = architecture;
    this.imagenetStem = "imagenet".equals(architecture.getStem());
    int width = architecture.getBaseWidth();
    conv1 = addChildBlock("conv1", Conv2d.builder()
        .setKernelShape(imagenetStem ? new Shape(7, 7) : new Shape(3, 3))
        .optStride(imagenetStem ? new Shape(2, 2) : new Shape(1, 1))
        .optPadding(imagenetStem ? new Shape(3, 3) : new Shape(1, 1))
        .setFilters(width)
        .optBias(false)
        .build());
    bn1 = addChildBlock("bn1", new ChannelBatchNorm());
    int channels = width;
    for (int i = 0; i < 4; i++) {
      Stage stage = new Stage(architecture.getBottleneck(), channels, width << i,
          architecture.getBlocks(i), i == 0 ? 1 : 2);
      layers.add(addChildBlock("layer" + (i + 1), stage));
      channels = stage.outChannels();
    }
    featureChannels = channels;
    // a linear head is torchvision's fc itself (fc.weight, fc.bias); an MLP head is an nn.Sequential (fc.0 … fc.4)
    fc = addChildBlock("fc", architecture.getHead().getKind() == HeadSpec.Kind.MLP
        ? new MlpHead(architecture.getHead(), architecture.getNumClasses())
        : Linear.builder().setUnits(architecture.getNumClasses()).build());
  }

  public Architecture architecture() {
    return architecture;
  }

  public int featureChannels() {
    return featureChannels;
  }

  /** The blocks of each stage in {@link #STAGES}, for freezing and parameter groups. */
  public Map<String, List<Block>> stageBlocks() {
    Map<String, List<Block>> stages = new LinkedHashMap<>();
    stages.put("stem", List.of(conv1, bn1));
    for (int i = 0; i < layers.size(); i++) {
      stages.put("layer" + (i + 1), List.of(layers.get(i)));
    }
    stages.put("head", List.of(fc));
    return stages;
  }

  public List<Stage> layers() {
    return layers;
  }

  /** Penultimate features: the globally pooled output of layer4, shape (N, featureChannels). */
  public NDArray features(ParameterStore ps, NDArray images, boolean training) {
    NDList x = conv1.forward(ps, new NDList(images), training);
    x = bn1.forward(ps, x, training);
    NDArray y = Activation.relu(x.singletonOrThrow());
    if (imagenetStem) {
      y = Pool.maxPool2d(y, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
    }
    x = new NDList(y);
    for (Stage layer : layers) {
      x = layer.forward(ps, x, training);
    }
    return globalAveragePool(x.singletonOrThrow());
  }

  /**
   * A forward pass for gradient diagnostics: a zero-valued probe that records its gradient is added to
   * the input of every residual unit and to layer4's output, so after a backward pass probe k holds
   * dL/d(input of unit k) — without cutting the graph. Probes are appended to {@code probes} in order.
   */
  public NDArray forwardWithProbes(ParameterStore ps, NDArray images, boolean training, java.util.List<NDArray> probes) {
    NDList x = conv1.forward(ps, new NDList(images), training);
    x = bn1.forward(ps, x, training);
    NDArray y = Activation.relu(x.singletonOrThrow());
    if (imagenetStem) {
      y = Pool.maxPool2d(y, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
    }
    for (Stage layer : layers) {
      for (ResidualUnit unit : layer.units()) {
        y = y.add(probe(y, probes));
        y = unit.forward(ps, new NDList(y), training).singletonOrThrow();
      }
    }
    y = y.add(probe(y, probes));
    return fc.forward(ps, new NDList(globalAveragePool(y)), training).singletonOrThrow();
  }

  /**
   * (N, C, H, W) to (N, C) in one reduction: DJL's {@code mean} takes a single axis, and reducing W then H
   * cost two ops and two backward nodes, the first over rows of four values at the demo model's size.
   */
  private static NDArray globalAveragePool(NDArray x) {
    Shape s = x.getShape();
    return x.reshape(s.get(0), s.get(1), -1).mean(new int[] {2});
  }

  private static NDArray probe(NDArray like, java.util.List<NDArray> probes) {
    NDArray p = like.zerosLike();
    p.setRequiresGradient(true);
    probes.add(p);
    return p;
  }

  /** Names of the residual units in forward order, e.g. layer1.0, layer1.1, layer2.0, … */
  public java.util.List<String> unitNames() {
    java.util.List<String> names = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      for (int j = 0; j < layers.get(i).units().size(); j++) {
        names.add("layer" + (i + 1) + "." + j);
      }
    }
    return names;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return fc.forward(ps, new NDList(features(ps, inputs.singletonOrThrow(), training)), training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), architecture.getNumClasses())};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] shapes = ResidualUnit.init(conv1, manager, dataType, inputShapes);
    shapes = ResidualUnit.init(bn1, manager, dataType, shapes);
    if (imagenetStem) {
      Shape s = shapes[0];
      shapes = new Shape[] {new Shape(s.get(0), s.get(1), (s.get(2) + 1) / 2, (s.get(3) + 1) / 2)};
    }
    for (Stage layer : layers) {
      shapes = ResidualUnit.init(layer, manager, dataType, shapes);
    }
    fc.initialize(manager, dataType, new Shape(inputShapes[0].get(0), featureChannels));
  }
}
