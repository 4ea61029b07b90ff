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

/**
 * Children applied one after the other, named as in a torch nn.Sequential ("0", "1", …) so parameters
 * keep torchvision's names. DJL's SequentialBlock names children by class, which would not.
 */
abstract class BlockChain extends AbstractBlock {
  private final List<Block> chain = new ArrayList<>();

  /** Appends {@code block} under the next index and returns it. */
  protected final <B extends Block> B append(B block) {
    chain.add(addChildBlock(Integer.toString(chain.size()), block));
    return block;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList x = inputs;
    for (Block b : chain) {
      x = b.forward(ps, x, training);
    }
    return x;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block b : chain) {
      shapes = b.getOutputShapes(shapes);
    }
    return shapes;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] shapes = inputShapes;
    for (Block b : chain) {
      shapes = ResidualUnit.init(b, manager, dataType, shapes);
    }
  }
}
