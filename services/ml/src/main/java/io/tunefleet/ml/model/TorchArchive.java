package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import net.razorvine.pickle.objects.ClassDictConstructor;

/**
 * The tensors of a PyTorch zip archive by their dotted names — a TorchScript export's parameters and buffers
 * ({@code bn1.running_mean}), or the entries of a {@code torch.save}d state_dict — read without libtorch.
 *
 * <p>DJL hands out a TorchScript module's parameters but not its buffers, and a pretrained network's
 * BatchNorm running statistics are buffers. The archive holds both: {@code ARCHIVE/data.pkl} pickles the
 * module tree (each module an object whose attributes are its tensors and submodules), and each tensor refers,
 * through a persistent id {@code ('storage', torch.FloatStorage, key, device, numel)}, to the raw little-endian
 * storage {@code ARCHIVE/data/KEY}. Pyrolite runs the pickle; torch's own rebuild functions are replaced by
 * constructors that record where each tensor's bytes are, and nothing in the pickle is executed.
 */
public final class TorchArchive implements StateDictFile {
  private static final Pattern DATA_PKL = Pattern.compile("[^/]+/data\\.pkl");
  private static final int MAX_DEPTH = 64;

  /** A storage: a zip entry of raw elements of one dtype. */
  private record Storage(String key, DataType dataType) {}

  /** A tensor: a contiguous view into a storage. */
  private record TensorRef(Storage storage, long offset, Shape shape) {}

  private final Path file;
  private final String prefix;
  private final Map<String, TensorRef> tensors;

  private TorchArchive(Path file, String prefix, Map<String, TensorRef> tensors) {
    this.file = file;
    this.prefix = prefix;
    this.tensors = tensors;
  }

  /** Reads the archive's pickle and checks that every tensor's storage is present and large enough. */
  public static TorchArchive open(Path file) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry pkl = zip.stream().filter(e -> DATA_PKL.matcher(e.getName()).matches()).findFirst()
          .orElseThrow(() -> new IOException("the archive has no data.pkl: not a TorchScript export"));
      String prefix = pkl.getName().substring(0, pkl.getName().indexOf('/') + 1);
      ZipEntry byteOrder = zip.getEntry(prefix + "byteorder");
      if (byteOrder != null) {
        // PyTorch 2.x records the byte order of the storages; older archives are always little-endian
        try (InputStream in = zip.getInputStream(byteOrder)) {
          String order = new String(in.readNBytes(16), java.nio.charset.StandardCharsets.US_ASCII).trim();
          if (!order.equals("little")) {
            throw new IOException("the archive's storages are " + order + "-endian; save it on a little-endian machine");
          }
        }
      }
      Object root;
      StateUnpickler unpickler = new StateUnpickler();
      try (InputStream in = zip.getInputStream(pkl)) {
        root = unpickler.load(in);
      } catch (RuntimeException e) {
        // Pyrolite reports a pickle that is not a module tree as whatever its stack machine trips over
        throw new IOException("cannot read the module state in " + pkl.getName() + ": " + e, e);
      } finally {
        unpickler.close();
      }
      Map<String, TensorRef> tensors = new TreeMap<>();
      collect(root, "", tensors, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
      for (Map.Entry<String, TensorRef> t : tensors.entrySet()) {
        TensorRef ref = t.getValue();
        ZipEntry data = zip.getEntry(prefix + "data/" + ref.storage().key());
        long needed = (ref.offset() + ref.shape().size()) * ref.storage().dataType().getNumOfBytes();
        if (data == null) {
          throw new IOException("truncated: tensor " + t.getKey() + " refers to storage data/" + ref.storage().key()
              + ", which the archive does not hold");
        }
        if (data.getSize() >= 0 && data.getSize() < needed) {
          throw new IOException(String.format("truncated: tensor %s needs %d bytes of storage data/%s, which holds %d",
              t.getKey(), needed, ref.storage().key(), data.getSize()));
        }
      }
      return new TorchArchive(file, prefix, tensors);
    } catch (ZipException e) {
      throw new IOException("not a readable zip archive (a TorchScript export is one; a truncated one is not): "
          + e.getMessage(), e);
    }
  }

  /** Walks the unpickled module tree: a module is a map of attributes, its tensors and submodules among them. */
  private static void collect(Object node, String name, Map<String, TensorRef> out, Set<Object> seen, int depth)
      throws IOException {
    if (!(node instanceof Map<?, ?> attributes) || !seen.add(node)) {
      return;
    }
    if (depth > MAX_DEPTH) {
      throw new IOException("the module tree is nested more than " + MAX_DEPTH + " levels deep at " + name);
    }
    for (Map.Entry<?, ?> a : attributes.entrySet()) {
      if (!(a.getKey() instanceof String key)) {
        continue;
      }
      if (a.getValue() instanceof TensorRef t) {
        out.put(name + key, t);
      } else {
        collect(a.getValue(), name + key + ".", out, seen, depth + 1);
      }
    }
  }

  @Override
  public Map<String, Shape> shapes() {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    tensors.forEach((k, v) -> shapes.put(k, v.shape()));
    return shapes;
  }

  /** Reads the tensors named in {@code names} (all when null) into {@code manager}, in their stored dtype. */
  @Override
  public Map<String, NDArray> read(NDManager manager, Collection<String> names) throws IOException {
    Map<String, NDArray> out = new LinkedHashMap<>();
    Map<String, byte[]> storages = new java.util.HashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      for (Map.Entry<String, TensorRef> t : tensors.entrySet()) {
        if (names != null && !names.contains(t.getKey())) {
          continue;
        }
        TensorRef ref = t.getValue();
        String entry = prefix + "data/" + ref.storage().key();
        byte[] bytes = storages.get(entry);
        if (bytes == null) {
          ZipEntry e = zip.getEntry(entry);
          if (e == null) {
            throw new IOException("truncated: storage " + entry + " of tensor " + t.getKey() + " is missing");
          }
          try (InputStream in = zip.getInputStream(e)) {
            bytes = in.readAllBytes();
          }
          storages.put(entry, bytes);
        }
        int item = ref.storage().dataType().getNumOfBytes();
        long from = ref.offset() * item;
        long length = ref.shape().size() * item;
        if (from + length > bytes.length) {
          throw new IOException(String.format("truncated: tensor %s needs bytes %d..%d of %s, which holds %d",
              t.getKey(), from, from + length, entry, bytes.length));
        }
        ByteBuffer data = ByteBuffer.allocateDirect((int) length).order(ByteOrder.LITTLE_ENDIAN);
        data.put(bytes, (int) from, (int) length).flip();
        NDArray a = manager.create(data, ref.shape(), ref.storage().dataType());
        a.setName(t.getKey());
        out.put(t.getKey(), a);
      }
    } catch (ZipException e) {
      throw new IOException("not a zip archive: " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Pyrolite's unpickler with torch's globals replaced: tensors become {@link TensorRef}s, storages
   * {@link Storage}s, TorchScript's typed-list builders return their list, and every other class an attribute
   * map ({@code ClassDict}). The replacement happens here, not in Pyrolite's process-wide constructor table.
   */
  private static final class StateUnpickler extends Unpickler {
    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
      if (key == Opcodes.GLOBAL) {
        String module = PickleUtils.readline(input);
        String name = PickleUtils.readline(input);
        stack.add(constructor(module, name));
        return NO_RETURN_VALUE;
      }
      if (key == Opcodes.STACK_GLOBAL) {
        String name = (String) stack.pop();
        String module = (String) stack.pop();
        stack.add(constructor(module, name));
        return NO_RETURN_VALUE;
      }
      return super.dispatch(key);
    }

    private static Object constructor(String module, String name) {
      String qualified = module + "." + name;
      if (module.equals("torch") && name.endsWith("Storage")) {
        return new StorageType(name);
      }
      return switch (qualified) {
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> (IObjectConstructor) StateUnpickler::tensor;
        case "torch._utils._rebuild_parameter", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
            "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_genericlist",
            "torch.jit._pickle.restore_type_tag" -> (IObjectConstructor) args -> args[0];
        default -> {
          IObjectConstructor known = objectConstructors.get(qualified);
          yield known != null ? known : new ClassDictConstructor(module, name);
        }
      };
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, ...)}. */
    private static Object tensor(Object[] args) {
      if (!(args[0] instanceof Storage storage)) {
        throw new PickleException("a tensor whose storage is " + args[0] + ", not a persistent storage reference");
      }
      long offset = ((Number) args[1]).longValue();
      long[] size = longs((Object[]) args[2]);
      long[] stride = longs((Object[]) args[3]);
      long expected = 1;
      for (int i = size.length - 1; i >= 0; i--) {
        if (size[i] != 1 && stride[i] != expected) {
          throw new PickleException("a tensor of size " + List.of(args[2]) + " with strides " + List.of(args[3])
              + " is not contiguous; export a contiguous copy");
        }
        expected = Math.multiplyExact(expected, size[i]);
      }
      if (expected > (Integer.MAX_VALUE >> 3) || offset > (Integer.MAX_VALUE >> 3)) {
        throw new PickleException("a tensor of size " + List.of(args[2]) + " at offset " + offset
            + ": over 2 GiB, no ResNet weight is that large");
      }
      return new TensorRef(storage, offset, new Shape(size));
    }

    private static long[] longs(Object[] tuple) {
      long[] out = new long[tuple.length];
      for (int i = 0; i < tuple.length; i++) {
        out[i] = ((Number) tuple[i]).longValue();
        if (out[i] < 0) {
          throw new PickleException("negative tensor dimension or stride " + out[i]);
        }
      }
      return out;
    }

    /** {@code ('storage', torch.FloatStorage, key, location, numel)}. */
    @Override
    protected Object persistentLoad(Object pid) {
      if (!(pid instanceof Object[] t) || t.length < 3 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType type)) {
        throw new PickleException("unknown persistent id " + (pid instanceof Object[] a ? List.of(a) : pid));
      }
      if (type.dataType() == null) {
        throw new PickleException("storage type " + type.name() + " is not one a ResNet's state holds");
      }
      return new Storage(String.valueOf(t[2]), type.dataType());
    }
  }

  /** A {@code torch.XStorage} global, named in persistent ids. */
  private record StorageType(String name) {
    DataType dataType() {
      return switch (name) {
        case "FloatStorage" -> DataType.FLOAT32;
        case "DoubleStorage" -> DataType.FLOAT64;
        case "HalfStorage" -> DataType.FLOAT16;
        case "BFloat16Storage" -> DataType.BFLOAT16;
        case "LongStorage" -> DataType.INT64;
        case "IntStorage" -> DataType.INT32;
        case "ShortStorage" -> DataType.INT16;
        case "CharStorage" -> DataType.INT8;
        case "ByteStorage" -> DataType.UINT8;
        case "BoolStorage" -> DataType.BOOLEAN;
        default -> null;
      };
    }
  }
}
