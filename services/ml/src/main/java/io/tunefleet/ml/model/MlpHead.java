package io.tunefleet.ml.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.tunefleet.proto.v1.HeadSpec;

/**
 * The {@code mlp} classification head: Linear → BatchNorm1d → ReLU → Dropout → Linear, children named
 * 0..4 as in an nn.Sequential. (The {@code linear} head is a plain Linear layer named fc, as torchvision's.)
 */
public final class MlpHead extends AbstractBlock {
  private final Block[] layers;

  public MlpHead(HeadSpec spec, int numClasses) {
    int hidden = spec.getHidden() > 0 ? spec.getHidden() : 256;
    float dropout = spec.getDropout() > 0 ? spec.getDropout() : 0.5f;
    layers = new Block[] {
      addChildBlock("0", Linear.builder().setUnits(hidden).build()),
      addChildBlock("1", BatchNorm.builder().build()),
      addChildBlock("2", Activation.reluBlock()),
      addChildBlock("3", Dropout.builder().optRate(dropout).build()),
      addChildBlock("4", Linear.builder().setUnits(numClasses).build())
    };
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList x = inputs;
    for (Block layer : layers) {
      x = layer.forward(ps, x, training);
    }
    return x;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block layer : layers) {
      shapes = layer.getOutputShapes(shapes);
    }
    return shapes;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block layer : layers) {
      shapes = ResidualUnit.init(layer, manager, dataType, shapes);
    }
  }
}
