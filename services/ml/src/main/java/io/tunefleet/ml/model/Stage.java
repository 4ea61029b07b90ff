package io.tunefleet.ml.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/** One ResNet stage (torchvision's layer1..layer4): residual units named 0, 1, 2, … */
public final class Stage extends AbstractBlock {
  private final List<ResidualUnit> units = new ArrayList<>();

  public Stage(boolean bottleneck, int inChannels, int width, int blocks, int stride) {
    int channels = inChannels;
    for (int i = 0; i < blocks; i++) {
      ResidualUnit unit = new ResidualUnit(bottleneck, channels, width, i == 0 ? stride : 1);
      units.add(addChildBlock(Integer.toString(i), unit));
      channels = unit.outChannels();
    }
  }

  public int outChannels() {
    return units.get(units.size() - 1).outChannels();
  }

  public List<ResidualUnit> units() {
    return units;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList x = inputs;
    for (Block unit : units) {
      x = unit.forward(ps, x, training);
    }
    return x;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block unit : units) {
      shapes = unit.getOutputShapes(shapes);
    }
    return shapes;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block unit : units) {
      shapes = ResidualUnit.init(unit, manager, dataType, shapes);
    }
  }
}
