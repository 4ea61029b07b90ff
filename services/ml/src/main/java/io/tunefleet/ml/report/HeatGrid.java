package io.tunefleet.ml.report;

import java.awt.geom.Rectangle2D;

/** The pixel geometry of a k×k heat map: square cells from (left, top), row by row. */
record HeatGrid(double left, double top, double cell, int k) {
  Rectangle2D cell(int row, int col) {
    return new Rectangle2D.Double(left + col * cell, top + row * cell, cell, cell);
  }

  double right() {
    return left + k * cell;
  }

  double bottom() {
    return top + k * cell;
  }
}
