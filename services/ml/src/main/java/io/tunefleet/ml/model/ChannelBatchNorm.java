package io.tunefleet.ml.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * BatchNorm over axis 1, the channels of (N, C, H, W) or the features of (N, C), as torch's BatchNorm2d and
 * BatchNorm1d: DJL's {@code BatchNorm} with its default settings and the same parameters (names, types, initial
 * values), so checkpoints and {@link ParameterNames} see no difference.
 *
 * <p>It exists for speed. DJL's PyTorch engine wraps every batch norm whose axis is not -1 in two transposes
 * of that axis with axis 1; for axis 1 both are no-ops, but each is still a native call forward and an
 * autograd node backward: 48 ops in every training step of the demo model (12 BatchNorms). Axis -1 tells the
 * engine to call libtorch's {@code batch_norm}, which normalises axis 1, directly.
 */
public final class ChannelBatchNorm extends AbstractBlock {
  /** DJL's convention, {@code running = momentum * running + (1 - momentum) * batch}: torch's momentum 0.1. */
  static final float MOMENTUM = 0.9f;
  static final float EPSILON = 1e-5f;

  private final Parameter gamma;
  private final Parameter beta;
  private final Parameter runningMean;
  private final Parameter runningVar;
  private boolean statisticsFixed;

  public ChannelBatchNorm() {
    gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA).build());
    beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA).build());
    runningMean = addParameter(Parameter.builder().setName("runningMean").setType(Parameter.Type.RUNNING_MEAN)
        .optRequiresGrad(false).build());
    runningVar = addParameter(Parameter.builder().setName("runningVar").setType(Parameter.Type.RUNNING_VAR)
        .optRequiresGrad(false).build());
  }

  /**
   * With {@code fixed}, training-mode forward passes normalise with the running statistics and leave them
   * unchanged, as inference does (torchvision's FrozenBatchNorm2d); gradients still flow to the input.
   */
  public void fixStatistics(boolean fixed) {
    this.statisticsFixed = fixed;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    Device device = x.getDevice();
    return x.getNDArrayInternal().batchNorm(x, ps.getValue(runningMean, device, training),
        ps.getValue(runningVar, device, training), ps.getValue(gamma, device, training),
        ps.getValue(beta, device, training), -1, MOMENTUM, EPSILON, training && !statisticsFixed);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void prepare(Shape[] inputShapes) {
    Shape channels = new Shape(inputShapes[0].get(1));
    gamma.setShape(channels);
    beta.setShape(channels);
    runningMean.setShape(channels);
    runningVar.setShape(channels);
  }
}
