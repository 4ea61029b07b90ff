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
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import io.tunefleet.proto.v1.Architecture;
import org.junit.jupiter.api.Test;

class Conv1x1Test {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  /**
   * Forward and backward as DJL's 1x1 convolution, on a contiguous (N, C, H, W) input and on a channels-last
   * one (the layout the fleet's images arrive in); at these small widths libtorch's own 1x1 convolution is safe
   * to use as the reference.
   */
  @Test
  void equalsA1x1ConvolutionForwardAndBackward() {
    for (boolean channelsLast : new boolean[] {false, true}) {
      try (NDManager manager = NDManager.newBaseManager()) {
        Shape in = new Shape(3, 5, 6, 7);
        Block ours = new Conv1x1(4);
        Block reference = Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(4).optBias(false).build();
        ours.initialize(manager, DataType.FLOAT32, in);
        reference.initialize(manager, DataType.FLOAT32, in);
        Parameter weight = ours.getParameters().get("weight");
        Parameter referenceWeight = reference.getParameters().get("weight");
        assertEquals(referenceWeight.getArray().getShape(), weight.getArray().getShape());
        assertEquals(referenceWeight.getType(), weight.getType());
        float[] w = manager.randomNormal(weight.getArray().getShape()).toFloatArray();
        weight.getArray().set(w);
        referenceWeight.getArray().set(w);

        NDArray x = channelsLast
            ? manager.randomNormal(new Shape(3, 6, 7, 5)).transpose(0, 3, 1, 2)
            : manager.randomNormal(in);
        NDArray upstream = manager.randomNormal(new Shape(3, 4, 6, 7));
        TrainingPass got = TrainingPass.run(manager, ours, x, upstream, weight.getArray());
        TrainingPass want = TrainingPass.run(manager, reference, x, upstream, referenceWeight.getArray());

        assertEquals(new Shape(3, 4, 6, 7), got.output().getShape());
        assertEquals(want.output().getShape(), got.output().getShape());
        assertArrayEquals(want.output().toFloatArray(), got.output().toFloatArray(), 1e-5f);
        assertArrayEquals(want.inputGradient().toFloatArray(), got.inputGradient().toFloatArray(), 1e-5f);
        assertArrayEquals(want.parameterGradients().get(0).toFloatArray(),
            got.parameterGradients().get(0).toFloatArray(), 1e-4f);
      }
    }
  }

  /**
   * An op's result belongs to its first operand's manager: a view of the weight made in the forward pass must
   * end with the step's scope, not pile up in the model's manager for as long as the model lives (it did: the
   * demo model's memory grew 14 % over 1,000 steps).
   */
  @Test
  void forwardPassesLeaveNothingInTheModelsManager() {
    try (NDManager model = NDManager.newBaseManager()) {
      Shape in = new Shape(2, 3, 4, 4);
      Block block = new Conv1x1(5);
      block.initialize(model, DataType.FLOAT32, in);
      int before = model.getManagedArrays().size();
      for (boolean training : new boolean[] {false, true}) {
        for (int i = 0; i < 3; i++) {
          try (NDManager step = model.newSubManager()) {
            block.forward(new ParameterStore(step, false), new NDList(step.ones(in)), training);
          }
        }
      }
      assertEquals(before, model.getManagedArrays().size());
    }
  }

  /** Bottleneck networks take their 1x1 convolutions from here; the 3x3 ones and the stem stay convolutions. */
  @Test
  void bottlenecksUseItForTheirStrideOne1x1Convolutions() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Architecture r50 = Architecture.newBuilder().setFamily("resnet50").setNumClasses(10).build();
      ResNet net = ResNets.build(r50, manager, 32);
      Block unit = child(child(net, "layer1"), "0");
      assertEquals(Conv1x1.class, child(unit, "conv1").getClass());
      assertEquals(Conv2d.class, child(unit, "conv2").getClass());
      assertEquals(Conv1x1.class, child(unit, "conv3").getClass());
      assertEquals(Conv1x1.class, child(child(unit, "downsample"), "0").getClass());
    }
  }

  /** DJL keys children by position and name ("01conv1"). */
  private static Block child(Block parent, String name) {
    return parent.getChildren().stream().filter(e -> e.getKey().substring(2).equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no child " + name + " in " + parent.getChildren().keys())).getValue();
  }
}
