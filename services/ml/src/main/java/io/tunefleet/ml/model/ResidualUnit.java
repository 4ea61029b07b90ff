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
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A torchvision residual block: BasicBlock (two 3x3 convolutions) or Bottleneck (1x1, 3x3, 1x1 with
 * 4x expansion), with a {@link Downsample} shortcut when the shape changes. Children are named as in
 * torchvision (conv1, bn1, conv2, bn2, [conv3, bn3], downsample) so weights map one to one.
 */
public final class ResidualUnit extends AbstractBlock {
  private final boolean bottleneck;
  private final int outChannels;
  private final int stride;
  private final Block conv1;
  private final Block bn1;
  private final Block conv2;
  private final Block bn2;
  private final Block conv3;
  private final Block bn3;
  private final Downsample downsample;

  /**
   * @param width the block's inner width (torchvision's {@code planes})
   * @param inChannels channels coming in
   */
  public ResidualUnit(boolean bottleneck, int inChannels, int width, int stride) {
    this.bottleneck = bottleneck;
    this.stride = stride;
    this.outChannels = bottleneck ? width * 4 : width;
    if (bottleneck) {
      conv1 = addChildBlock("conv1", conv(width, 1, 1));
      bn1 = addChildBlock("bn1", new ChannelBatchNorm());
      // torchvision v1.5: the stride sits on the 3x3 convolution
      conv2 = addChildBlock("conv2", conv(width, 3, stride));
      bn2 = addChildBlock("bn2", new ChannelBatchNorm());
      conv3 = addChildBlock("conv3", conv(outChannels, 1, 1));
      bn3 = addChildBlock("bn3", new ChannelBatchNorm());
    } else {
      conv1 = addChildBlock("conv1", conv(width, 3, stride));
      bn1 = addChildBlock("bn1", new ChannelBatchNorm());
      conv2 = addChildBlock("conv2", conv(width, 3, 1));
      bn2 = addChildBlock("bn2", new ChannelBatchNorm());
      conv3 = null;
      bn3 = null;
    }
    downsample = stride != 1 || inChannels != outChannels
        ? addChildBlock("downsample", new Downsample(outChannels, stride))
        : null;
  }

  /** A convolution without bias, padded to keep the size; a 1x1 with stride 1 is a {@link Conv1x1}. */
  static Block conv(int filters, int kernel, int stride) {
    if (kernel == 1 && stride == 1) {
      return new Conv1x1(filters);
    }
    return Conv2d.builder()
        .setKernelShape(new Shape(kernel, kernel))
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(kernel / 2, kernel / 2))
        .setFilters(filters)
        .optBias(false)
        .build();
  }

  public int outChannels() {
    return outChannels;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    NDList y = conv1.forward(ps, inputs, training);
    y = bn1.forward(ps, y, training);
    y = new NDList(Activation.relu(y.singletonOrThrow()));
    y = conv2.forward(ps, y, training);
    y = bn2.forward(ps, y, training);
    if (bottleneck) {
      y = new NDList(Activation.relu(y.singletonOrThrow()));
      y = conv3.forward(ps, y, training);
      y = bn3.forward(ps, y, training);
    }
    NDArray shortcut = downsample == null ? x : downsample.forward(ps, inputs, training).singletonOrThrow();
    return new NDList(Activation.relu(y.singletonOrThrow().add(shortcut)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    long h = (in.get(2) + stride - 1) / stride;
    long w = (in.get(3) + stride - 1) / stride;
    return new Shape[] {new Shape(in.get(0), outChannels, h, w)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] shapes = inputShapes;
    shapes = init(conv1, manager, dataType, shapes);
    shapes = init(bn1, manager, dataType, shapes);
    shapes = init(conv2, manager, dataType, shapes);
    shapes = init(bn2, manager, dataType, shapes);
    if (bottleneck) {
      shapes = init(conv3, manager, dataType, shapes);
      init(bn3, manager, dataType, shapes);
    }
    if (downsample != null) {
      downsample.initialize(manager, dataType, inputShapes);
    }
  }

  static Shape[] init(Block block, NDManager manager, DataType dataType, Shape[] shapes) {
    block.initialize(manager, dataType, shapes);
    return block.getOutputShapes(shapes);
  }
}
