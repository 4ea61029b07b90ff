package io.tunefleet.ml.train;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** Where training and inference run, from the fleet's device setting: auto, cpu or gpu. */
public final class Devices {
  private Devices() {}

  /** The GPU when libtorch sees one (and the setting allows it), else the CPU; "gpu" without one is an error. */
  public static Device choose(String setting) {
    boolean gpu = Engine.getInstance().getGpuCount() > 0;
    if (setting.equals("gpu") && !gpu) {
      throw new IllegalStateException("FLEET_DEVICE=gpu but no GPU is visible to libtorch");
    }
    return gpu && !setting.equals("cpu") ? Device.gpu() : Device.cpu();
  }
}
