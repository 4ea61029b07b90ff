package io.tunefleet.ml.model;

import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import io.tunefleet.proto.v1.HeadSpec;

/**
 * The {@code mlp} classification head: Linear → BatchNorm1d → ReLU → Dropout → Linear, children named
 * 0..4 as in an nn.Sequential. (The {@code linear} head is a plain Linear layer named fc, as torchvision's.)
 */
public final class MlpHead extends BlockChain {
  public MlpHead(HeadSpec spec, int numClasses) {
    int hidden = spec.getHidden() > 0 ? spec.getHidden() : 256;
    float dropout = spec.getDropout() > 0 ? spec.getDropout() : 0.5f;
    append(Linear.builder().setUnits(hidden).build());
    append(new ChannelBatchNorm());
    append(Activation.reluBlock());
    append(Dropout.builder().optRate(dropout).build());
    append(Linear.builder().setUnits(numClasses).build());
  }
}
