package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A file in the safetensors format (an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data), checked against its own size before a byte of
 * data is trusted.
 *
 * <p>DJL 0.36 decodes safetensors too ({@code NDList.decode}; it reads what this project's scripts write), but it
 * believes the header: a length that claims more bytes than the file has becomes an {@code ArithmeticException},
 * an array of that size or a bare {@code EOFException}, and a truncated data section an {@code EOFException} that
 * names no tensor. A base model is user input, so this reader checks every entry against the file first and says
 * which one is wrong, and reads only the header when that is all acceptance needs.
 */
public final class SafetensorsFile implements StateDictFile {
  /** The safetensors specification's limit on the header (it keeps a bad length from allocating gigabytes). */
  static final long MAX_HEADER_BYTES = 100L << 20;

  /** One tensor's header entry: its byte range {@code [begin, end)} is relative to the start of the data. */
  public record Entry(String name, DataType dataType, Shape shape, long begin, long end) {}

  private final Path file;
  private final long dataStart;
  private final long dataBytes;
  private final Map<String, Entry> entries;

  private SafetensorsFile(Path file, long dataStart, long dataBytes, Map<String, Entry> entries) {
    this.file = file;
    this.dataStart = dataStart;
    this.dataBytes = dataBytes;
    this.entries = entries;
  }

  /** Reads and checks the header of {@code file} (not its data): every entry's dtype, shape and byte range. */
  public static SafetensorsFile open(Path file) throws IOException {
    long size = Files.size(file);
    if (size < 8) {
      throw new IOException("truncated: " + size + " bytes, shorter than the 8-byte header length that starts a safetensors file");
    }
    byte[] json;
    long headerBytes;
    try (InputStream in = Files.newInputStream(file)) {
      headerBytes = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (headerBytes > size - 8 || headerBytes < 0) {
        throw new IOException(String.format("the header claims %s bytes but only %d follow its 8-byte length "
            + "(a truncated file, or not a safetensors file)", Long.toUnsignedString(headerBytes), size - 8));
      }
      if (headerBytes < 2 || headerBytes > MAX_HEADER_BYTES) {
        throw new IOException("the header length " + headerBytes + " is not that of a safetensors header (2 bytes to 100 MiB)");
      }
      json = in.readNBytes((int) headerBytes);
    }
    JsonObject header;
    try {
      JsonElement parsed = JsonParser.parseString(new String(json, StandardCharsets.UTF_8));
      if (!parsed.isJsonObject()) {
        throw new IOException("the header is not a JSON object");
      }
      header = parsed.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IOException("the header is not valid JSON: " + e.getMessage());
    }
    long dataBytes = size - 8 - headerBytes;
    Map<String, Entry> entries = new LinkedHashMap<>();
    List<String> beyond = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      Entry entry = entry(e.getKey(), e.getValue());
      if (entry.end() > dataBytes) {
        beyond.add(entry.name() + " ends at byte " + entry.end());
      }
      entries.put(entry.name(), entry);
    }
    if (!beyond.isEmpty()) {
      throw new IOException(String.format("truncated: the file holds %d bytes of tensor data, but %d of its %d tensors lie beyond "
          + "them (%s)", dataBytes, beyond.size(), entries.size(), Listing.of(beyond, 3)));
    }
    return new SafetensorsFile(file, 8 + headerBytes, dataBytes, entries);
  }

  private static Entry entry(String name, JsonElement value) throws IOException {
    try {
      JsonObject o = value.getAsJsonObject();
      String dtype = o.get("dtype").getAsString();
      DataType type = dataType(dtype);
      if (type == null) {
        throw new IOException("tensor " + name + " has dtype " + dtype + ", which a ResNet's weights never have "
            + "(F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
      }
      JsonArray dims = o.get("shape").getAsJsonArray();
      long[] shape = new long[dims.size()];
      long elements = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = dims.get(i).getAsLong();
        if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) {
          throw new IOException("tensor " + name + " has shape " + dims + ": dimensions must be 0.." + Integer.MAX_VALUE);
        }
        elements = Math.multiplyExact(elements, shape[i]);
      }
      JsonArray offsets = o.get("data_offsets").getAsJsonArray();
      if (offsets.size() != 2) {
        throw new IOException("tensor " + name + " has data_offsets " + offsets + ", expected [begin, end]");
      }
      long begin = offsets.get(0).getAsLong();
      long end = offsets.get(1).getAsLong();
      long needed = Math.multiplyExact(elements, (long) type.getNumOfBytes());
      if (begin < 0 || end < begin) {
        throw new IOException("tensor " + name + " has data_offsets " + offsets + ", expected 0 <= begin <= end");
      }
      if (needed > Integer.MAX_VALUE - 8) {
        throw new IOException("tensor " + name + " has shape " + dims + ": more than 2 GiB, no ResNet weight is that large");
      }
      if (end - begin != needed) {
        throw new IOException(String.format("tensor %s has data_offsets %s, %d bytes, but dtype %s and shape %s need %d",
            name, offsets, end - begin, dtype, dims, needed));
      }
      return new Entry(name, type, new Shape(shape), begin, end);
    } catch (IllegalStateException | NullPointerException | UnsupportedOperationException | NumberFormatException
        | ArithmeticException e) {
      throw new IOException("tensor " + name + " has a malformed header entry " + value
          + " (expected {\"dtype\": …, \"shape\": […], \"data_offsets\": [begin, end]})");
    }
  }

  private static DataType dataType(String dtype) {
    return switch (dtype) {
      case "F32" -> DataType.FLOAT32;
      case "F64" -> DataType.FLOAT64;
      case "F16" -> DataType.FLOAT16;
      case "BF16" -> DataType.BFLOAT16;
      case "I64" -> DataType.INT64;
      case "I32" -> DataType.INT32;
      case "I16" -> DataType.INT16;
      case "I8" -> DataType.INT8;
      case "U8" -> DataType.UINT8;
      case "BOOL" -> DataType.BOOLEAN;
      default -> null;
    };
  }

  /** Every tensor's entry, in header order. */
  public Map<String, Entry> entries() {
    return entries;
  }

  /** Every tensor's shape by name, in header order. */
  @Override
  public Map<String, Shape> shapes() {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    entries.forEach((k, v) -> shapes.put(k, v.shape()));
    return shapes;
  }

  /** Reads the tensors named in {@code names} (all when null) into {@code manager}, in their stored dtype. */
  @Override
  public Map<String, NDArray> read(NDManager manager, java.util.Collection<String> names) throws IOException {
    Map<String, NDArray> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (ch.size() != dataStart + dataBytes) {
        throw new IOException("the file changed size while being read (" + (dataStart + dataBytes) + " -> " + ch.size() + " bytes)");
      }
      for (Entry e : entries.values()) {
        if (names != null && !names.contains(e.name())) {
          continue;
        }
        ByteBuffer data = ByteBuffer.allocateDirect((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
        long at = dataStart + e.begin();
        while (data.hasRemaining()) {
          int n = ch.read(data, at + data.position());
          if (n < 0) {
            throw new IOException("truncated while reading tensor " + e.name());
          }
        }
        data.flip();
        NDArray a = manager.create(data, e.shape(), e.dataType());
        a.setName(e.name());
        out.put(e.name(), a);
      }
    }
    return out;
  }
}
