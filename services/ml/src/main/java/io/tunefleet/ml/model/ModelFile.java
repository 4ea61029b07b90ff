package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.proto.v1.ModelManifest;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fleet's model and checkpoint file: magic "TFM1", a {@link ModelManifest} (architecture, epoch,
 * stage, seed…), the weights by torchvision name (BatchNorm running statistics included) and, for
 * checkpoints, the momentum buffers by the same names. Tensors use DJL's portable NDArray encoding.
 */
public final class ModelFile {
  private static final int MAGIC = 0x54464d31; // "TFM1"

  /** A decoded file; arrays belong to the manager given to {@link #decode}. */
  public record Contents(ModelManifest manifest, Map<String, NDArray> weights, Map<String, NDArray> momentum) {}

  private ModelFile() {}

  public static byte[] encode(ModelManifest manifest, Map<String, NDArray> weights, Map<String, NDArray> momentum) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(MAGIC);
      byte[] m = manifest.toBuilder().setHasOptimizerState(!momentum.isEmpty()).build().toByteArray();
      out.writeInt(m.length);
      out.write(m);
      writeTensors(out, weights);
      writeTensors(out, momentum);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("in-memory write failed", e);
    }
  }

  private static void writeTensors(DataOutputStream out, Map<String, NDArray> tensors) throws IOException {
    out.writeInt(tensors.size());
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      out.writeUTF(e.getKey());
      byte[] t = e.getValue().encode();
      out.writeInt(t.length);
      out.write(t);
    }
  }

  public static Contents decode(byte[] bytes, NDManager manager) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    ModelManifest manifest = readHeader(in);
    Map<String, NDArray> weights = readTensors(in, manager);
    Map<String, NDArray> momentum = readTensors(in, manager);
    return new Contents(manifest, weights, momentum);
  }

  /** Reads only the manifest, without touching the tensors or needing an engine. */
  public static ModelManifest readManifest(Path file) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
      return readHeader(new DataInputStream(raw));
    }
  }

  private static ModelManifest readHeader(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      throw new IOException("not a fleet model file (magic 0x" + Integer.toHexString(magic) + ")");
    }
    int len = in.readInt();
    if (len < 0 || len > 1 << 20) {
      throw new IOException("corrupt model file: manifest length " + len);
    }
    return ModelManifest.parseFrom(in.readNBytes(len));
  }

  private static Map<String, NDArray> readTensors(DataInputStream in, NDManager manager) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 100_000) {
      throw new IOException("corrupt model file: " + n + " tensors");
    }
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String name = in.readUTF();
      int len = in.readInt();
      if (len < 0) {
        throw new IOException("corrupt model file: tensor " + name + " has length " + len);
      }
      NDArray a = manager.decode(in.readNBytes(len));
      a.setName(name);
      tensors.put(name, a);
    }
    return tensors;
  }
}
