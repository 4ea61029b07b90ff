package io.tunefleet.ml.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The blob format of per-sample difficulty: one float32 (little-endian) loss per training-split position. */
public final class DifficultyScores {
  private DifficultyScores() {}

  public static byte[] encode(float[] losses) {
    ByteBuffer b = ByteBuffer.allocate(4 * losses.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float l : losses) {
      b.putFloat(l);
    }
    return b.array();
  }

  public static float[] decode(byte[] bytes) {
    if (bytes.length % 4 != 0) {
      throw new IllegalArgumentException("difficulty blob of " + bytes.length + " bytes is not a float32 array");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[bytes.length / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.getFloat();
    }
    return out;
  }
}
