package io.tunefleet.ml.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.List;

/**
 * A block's forward pass in training mode on {@code x} and the backward pass of {@code sum(y · upstream)}: the
 * output, the input's gradient and the gradients of the given parameters, to compare a block with a reference.
 */
record TrainingPass(NDArray output, NDArray inputGradient, List<NDArray> parameterGradients) {
  static TrainingPass run(NDManager manager, Block block, NDArray x, NDArray upstream, NDArray... parameters) {
    NDArray input = x.duplicate();
    input.setRequiresGradient(true);
    for (NDArray p : parameters) {
      p.setRequiresGradient(true);
    }
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray y = block.forward(new ParameterStore(manager, false), new NDList(input), true).singletonOrThrow();
      gc.backward(y.mul(upstream).sum());
      return new TrainingPass(y.duplicate(), input.getGradient().duplicate(),
          Arrays.stream(parameters).map(p -> p.getGradient().duplicate()).toList());
    }
  }
}
