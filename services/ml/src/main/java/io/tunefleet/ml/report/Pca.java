package io.tunefleet.ml.report;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Projection of centred data onto its leading principal directions, from EJML's singular value
 * decomposition of the centred data (no covariance matrix is formed, so its conditioning is not squared).
 */
final class Pca {
  private Pca() {}

  /** Rows of {@code x} as coordinates in the {@code dims} leading principal directions (at most min(n, d) of them). */
  static double[][] project(double[][] x, int dims) {
    int n = x.length;
    int d = x[0].length;
    DMatrixRMaj centred = new DMatrixRMaj(x);
    DMatrixRMaj mean = new DMatrixRMaj(1, d);
    CommonOps_DDRM.sumCols(centred, mean);
    CommonOps_DDRM.divide(mean, n);
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < d; c++) {
        centred.unsafe_set(r, c, centred.unsafe_get(r, c) - mean.unsafe_get(0, c));
      }
    }
    SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(n, d, false, true, true);
    if (!svd.decompose(centred.copy())) {
      throw new IllegalStateException("the singular value decomposition of " + n + "×" + d + " features did not converge");
    }
    DMatrixRMaj w = svd.getW(null);
    DMatrixRMaj v = svd.getV(null, false);
    SingularOps_DDRM.descendingOrder(null, false, w, v, false);
    int k = Math.min(dims, v.numCols);
    DMatrixRMaj directions = CommonOps_DDRM.extract(v, 0, d, 0, k);
    DMatrixRMaj projected = new DMatrixRMaj(n, k);
    CommonOps_DDRM.mult(centred, directions, projected);
    double[][] out = new double[n][k];
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < k; c++) {
        out[r][c] = projected.unsafe_get(r, c);
      }
    }
    return out;
  }
}
