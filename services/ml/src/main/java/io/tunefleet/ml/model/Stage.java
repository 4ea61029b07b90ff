package io.tunefleet.ml.model;

import java.util.ArrayList;
import java.util.List;

/** One ResNet stage (torchvision's layer1..layer4): residual units named 0, 1, 2, … */
public final class Stage extends BlockChain {
  private final List<ResidualUnit> units = new ArrayList<>();

  public Stage(boolean bottleneck, int inChannels, int width, int blocks, int stride) {
    int channels = inChannels;
    for (int i = 0; i < blocks; i++) {
      ResidualUnit unit = append(new ResidualUnit(bottleneck, channels, width, i == 0 ? stride : 1));
      units.add(unit);
      channels = unit.outChannels();
    }
  }

  public int outChannels() {
    return units.get(units.size() - 1).outChannels();
  }

  public List<ResidualUnit> units() {
    return units;
  }
}
