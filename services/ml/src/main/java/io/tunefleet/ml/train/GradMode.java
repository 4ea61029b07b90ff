package io.tunefleet.ml.train;

import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's gradient recording is a per-thread switch, on by default in every new thread. DJL's
 * gradient collector turns it on for the forward/backward pass and restores the previous value, so a
 * service thread must start with it off: otherwise optimizer updates (in-place on leaf tensors) fail
 * and inference records graphs it never uses.
 */
final class GradMode {
  private GradMode() {}

  static void offOnThisThread() {
    JniUtils.setGradMode(false);
  }
}
