package io.tunefleet.ml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Collection;
import java.util.Map;

/** A file of named tensors (a PyTorch state_dict written one way or another): their shapes, then their values. */
public interface StateDictFile {
  /** Every tensor's shape by name, known without reading the tensors. */
  Map<String, Shape> shapes();

  /** Reads the tensors named in {@code names} into {@code manager}, in their stored dtype. */
  Map<String, NDArray> read(NDManager manager, Collection<String> names) throws IOException;
}
