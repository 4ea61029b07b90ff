package io.tunefleet.ml.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A float32 weight as the little-endian bytes both ONNX (raw_data) and safetensors store. */
final class Float32 {
  private Float32() {}

  static byte[] littleEndian(NDArray w, String name) {
    if (w.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(name + ": expected float32, was " + w.getDataType());
    }
    float[] values = w.toFloatArray();
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return raw.array();
  }
}
