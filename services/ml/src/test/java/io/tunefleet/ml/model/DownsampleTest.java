package io.tunefleet.ml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.BatchNorm;
import org.junit.jupiter.api.Test;

class DownsampleTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  /**
   * The block must compute what torchvision's projection shortcut computes (a strided 1x1 convolution, then
   * BatchNorm), forward and backward; at these small widths libtorch's strided convolution is safe to use as
   * the reference.
   */
  @Test
  void equalsAStrided1x1ConvolutionForwardAndBackward() {
    for (int size : new int[] {8, 7}) { // an odd size keeps the last row and column, as the convolution does
      try (NDManager manager = NDManager.newBaseManager()) {
        Shape in = new Shape(3, 4, size, size);
        Block ours = new Downsample(6, 2);
        Block reference = new SequentialBlock().add(ResidualUnit.conv(6, 1, 2)).add(BatchNorm.builder().build());
        ours.initialize(manager, DataType.FLOAT32, in);
        reference.initialize(manager, DataType.FLOAT32, in);
        NDArray weight = ours.getChildren().valueAt(0).getParameters().get("weight").getArray();
        NDArray referenceWeight = reference.getChildren().valueAt(0).getParameters().get("weight").getArray();
        float[] w = manager.randomNormal(weight.getShape()).toFloatArray();
        weight.set(w);
        referenceWeight.set(w);

        NDArray x = manager.randomNormal(in);
        NDArray upstream = manager.randomNormal(new Shape(3, 6, (size + 1) / 2, (size + 1) / 2));
        TrainingPass got = TrainingPass.run(manager, ours, x, upstream, weight);
        TrainingPass want = TrainingPass.run(manager, reference, x, upstream, referenceWeight);

        assertEquals(want.output().getShape(), got.output().getShape());
        assertArrayEquals(want.output().toFloatArray(), got.output().toFloatArray(), 1e-5f);
        assertArrayEquals(want.inputGradient().toFloatArray(), got.inputGradient().toFloatArray(), 1e-5f);
        assertArrayEquals(want.parameterGradients().get(0).toFloatArray(),
            got.parameterGradients().get(0).toFloatArray(), 1e-4f);
      }
    }
  }
}
