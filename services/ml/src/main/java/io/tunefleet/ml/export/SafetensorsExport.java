package io.tunefleet.ml.export;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes weights by torchvision name as a safetensors file, what {@code safetensors.torch.save_file(model.state_dict())}
 * writes for a torchvision ResNet: every parameter, each BatchNorm's {@code running_mean} and {@code running_var},
 * and its {@code num_batches_tracked} (int64 scalar), so {@code load_state_dict(strict=True)} accepts it.
 *
 * <p>The format: an unsigned 64-bit little-endian header length, a JSON header (name → dtype, shape, byte offsets;
 * {@code __metadata__} of strings), padded with spaces to a multiple of 8 bytes, then the raw little-endian data.
 */
public final class SafetensorsExport {
  private SafetensorsExport() {}

  /**
   * The file for {@code weights} (float32, torchvision names).
   *
   * @param batchesTracked the value of every BatchNorm's num_batches_tracked: torch only reads it when a
   *     BatchNorm's momentum is None (a cumulative average); the fleet writes the training steps of the phase
   * @param metadata strings stored under {@code __metadata__} ({@code format: pt} is always added)
   */
  public static byte[] export(Map<String, NDArray> weights, long batchesTracked, Map<String, String> metadata) {
    Map<String, byte[]> data = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, String> dtypes = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : weights.entrySet()) {
      String name = e.getKey();
      data.put(name, Float32.littleEndian(e.getValue(), name));
      shapes.put(name, e.getValue().getShape().getShape());
      dtypes.put(name, "F32");
      if (name.endsWith(".running_var")) {
        String tracked = name.substring(0, name.length() - "running_var".length()) + "num_batches_tracked";
        data.put(tracked, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(batchesTracked).array());
        shapes.put(tracked, new long[0]);
        dtypes.put(tracked, "I64");
      }
    }
    JsonObject header = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("format", "pt");
    metadata.forEach(meta::addProperty);
    header.add("__metadata__", meta);
    long offset = 0;
    List<byte[]> order = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : data.entrySet()) {
      JsonObject t = new JsonObject();
      t.addProperty("dtype", dtypes.get(e.getKey()));
      JsonArray shape = new JsonArray();
      for (long d : shapes.get(e.getKey())) {
        shape.add(d);
      }
      t.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset + e.getValue().length);
      t.add("data_offsets", offsets);
      header.add(e.getKey(), t);
      offset += e.getValue().length;
      order.add(e.getValue());
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8; // the data then starts 8-byte aligned, as the reference writer pads it
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, 8 + padded + offset));
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
    out.writeBytes(json);
    out.writeBytes(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
    for (byte[] b : order) {
      out.writeBytes(b);
    }
    return out.toByteArray();
  }
}
