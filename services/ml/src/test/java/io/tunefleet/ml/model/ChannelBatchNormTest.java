package io.tunefleet.ml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChannelBatchNormTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  /** DJL's own BatchNorm is the reference: training and inference, images and feature vectors. */
  @Test
  void computesWhatDjlsBatchNormComputesForwardBackwardAndRunningStatistics() {
    for (Shape shape : List.of(new Shape(4, 3, 5, 5), new Shape(6, 7))) {
      try (NDManager manager = NDManager.newBaseManager()) {
        Block ours = new ChannelBatchNorm();
        Block reference = BatchNorm.builder().build();
        ours.initialize(manager, DataType.FLOAT32, shape);
        reference.initialize(manager, DataType.FLOAT32, shape);
        // the same non-trivial scale and shift on both sides
        for (String name : List.of("gamma", "beta")) {
          float[] values = manager.randomNormal(new Shape(shape.get(1))).toFloatArray();
          ours.getParameters().get(name).getArray().set(values);
          reference.getParameters().get(name).getArray().set(values);
        }
        for (int step = 0; step < 3; step++) { // the running statistics must follow over several batches
          NDArray x = manager.randomNormal(shape).mul(2).add(1);
          NDArray upstream = manager.randomNormal(shape);
          List<float[]> got = trainingPass(manager, ours, x, upstream);
          List<float[]> want = trainingPass(manager, reference, x, upstream);
          for (int i = 0; i < want.size(); i++) {
            assertArrayEquals(want.get(i), got.get(i), 1e-5f, "output, input gradient, gamma, beta gradient [" + i + "]");
          }
          for (String name : List.of("runningMean", "runningVar")) {
            assertArrayEquals(reference.getParameters().get(name).getArray().toFloatArray(),
                ours.getParameters().get(name).getArray().toFloatArray(), 1e-6f, name);
          }
        }
        NDArray x = manager.randomNormal(shape);
        ParameterStore ps = new ParameterStore(manager, false);
        assertArrayEquals(reference.forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray(),
            ours.forward(ps, new NDList(x), false).singletonOrThrow().toFloatArray(), 1e-5f, "inference");
      }
    }
  }

  /** Checkpoints and torchvision names depend on the parameters' names and types being DJL's. */
  @Test
  void hasDjlsParameters() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Block ours = new ChannelBatchNorm();
      Block reference = BatchNorm.builder().build();
      ours.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 4, 4));
      reference.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 4, 4));
      assertEquals(reference.getParameters().keys(), ours.getParameters().keys());
      for (int i = 0; i < reference.getParameters().size(); i++) {
        Parameter want = reference.getParameters().valueAt(i);
        Parameter got = ours.getParameters().valueAt(i);
        assertEquals(want.getType(), got.getType(), want.getName());
        assertEquals(want.requiresGradient(), got.requiresGradient(), want.getName());
        assertEquals(want.getArray().getShape(), got.getArray().getShape(), want.getName());
        assertArrayEquals(want.getArray().toFloatArray(), got.getArray().toFloatArray(), want.getName());
      }
    }
  }

  /** Output, input gradient, gamma's and beta's gradients of one training pass. */
  private static List<float[]> trainingPass(NDManager manager, Block block, NDArray x, NDArray upstream) {
    TrainingPass pass = TrainingPass.run(manager, block, x, upstream,
        block.getParameters().get("gamma").getArray(), block.getParameters().get("beta").getArray());
    List<float[]> result = new ArrayList<>(List.of(pass.output().toFloatArray(), pass.inputGradient().toFloatArray()));
    pass.parameterGradients().forEach(g -> result.add(g.toFloatArray()));
    return result;
  }
}
