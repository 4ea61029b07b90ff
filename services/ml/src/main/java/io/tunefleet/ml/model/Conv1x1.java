package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A 1x1 convolution with stride 1 and no bias, computed as one matrix product over all the pixels of the
 * batch: {@code (N·H·W, C) x (C, K)}. Its parameter is DJL's {@code Conv2d} weight (name {@code weight}, type
 * WEIGHT, shape (K, C, 1, 1)), so checkpoints, TorchScript imports, initialisation and {@link ParameterNames}
 * see no difference.
 *
 * <p>It exists because libtorch 2.7.1's oneDNN (3.7.1) divides by zero while choosing its blocking for 1x1
 * convolutions on some CPUs ({@code brg_blocking_t::est_eff_1x1}, SIGFPE, the JVM dies): on an AMD EPYC
 * (Zen 5) VM every ResNet-50 died in its first forward pass, at 64 and at 224 px; the same model ran on a Zen
 * 4. The matrix product goes through libtorch's BLAS, not oneDNN's convolutions, and its backward pass is
 * two more products, the same arithmetic as the convolution's.
 *
 * <p>The fleet's activations are channels-last (the images arrive as N, H, W, C), so the permute and the
 * reshape to rows are views; a contiguous (N, C, H, W) input is copied once.
 */
public final class Conv1x1 extends AbstractBlock {
  private final int filters;
  private final Parameter weight;

  public Conv1x1(int filters) {
    this.filters = filters;
    weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    Shape s = x.getShape();
    long n = s.get(0);
    long c = s.get(1);
    long h = s.get(2);
    long w = s.get(3);
    // an op's result belongs to its first operand's manager, here the model's, which lives as long as the model:
    // the weight's view moves to the input's manager (the step's scope), or every forward pass would leak it
    NDArray kernel = ps.getValue(weight, x.getDevice(), training).reshape(filters, c);
    kernel.attach(x.getManager());
    NDArray rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c);
    return new NDList(rows.matMul(kernel.transpose()).reshape(n, h, w, filters).transpose(0, 3, 1, 2));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    return new Shape[] {new Shape(in.get(0), filters, in.get(2), in.get(3))};
  }

  @Override
  protected void prepare(Shape[] inputShapes) {
    weight.setShape(new Shape(filters, inputShapes[0].get(1), 1, 1));
  }
}
