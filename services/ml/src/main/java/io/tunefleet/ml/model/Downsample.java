package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's projection shortcut ({@code downsample.0} 1x1 conv, {@code downsample.1} BatchNorm).
 *
 * <p>A strided 1x1 convolution reads only every {@code stride}-th pixel, so this block takes those
 * pixels first and then runs a stride-1 1x1 convolution: the same output and the same weights, but it
 * avoids libtorch 2.7.1's oneDNN crash (SIGFPE) in the backward pass of 1x1 stride-2 convolutions at
 * ResNet-50's widths, at full speed (turning oneDNN off is several times slower).
 *
 * <p>The pixels are taken by a 1x1 average pool with the stride, which copies exactly those values. A
 * strided slice ({@code x.get(":, :, ::2, ::2")}) would give the same values, but DJL slices one axis
 * at a time, and the backward pass of each of the four slices allocates and fills a gradient as large as
 * the block's input, against one pass for the pool's (BENCHMARKS.md, "The trainer's step").
 */
public final class Downsample extends AbstractBlock {
  private final int stride;
  private final int outChannels;
  private final Block conv;
  private final Block bn;

  public Downsample(int outChannels, int stride) {
    this.stride = stride;
    this.outChannels = outChannels;
    this.conv = addChildBlock("0", ResidualUnit.conv(outChannels, 1, 1));
    this.bn = addChildBlock("1", new ChannelBatchNorm());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    if (stride != 1) {
      x = Pool.avgPool2d(x, new Shape(1, 1), new Shape(stride, stride), new Shape(0, 0), false, true);
    }
    NDList y = conv.forward(ps, new NDList(x), training);
    return bn.forward(ps, y, training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    return new Shape[] {
      new Shape(in.get(0), outChannels, (in.get(2) + stride - 1) / stride, (in.get(3) + stride - 1) / stride)
    };
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    Shape[] strided = {
      new Shape(in.get(0), in.get(1), (in.get(2) + stride - 1) / stride, (in.get(3) + stride - 1) / stride)
    };
    ResidualUnit.init(bn, manager, dataType, ResidualUnit.init(conv, manager, dataType, strided));
  }
}
