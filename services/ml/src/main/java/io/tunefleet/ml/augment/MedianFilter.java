package io.tunefleet.ml.augment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Exact 8-bit median filters with BORDER_REPLICATE, equal to {@code cv2.medianBlur(img, ksize)}.
 *
 * <p>Up to 7x7: comparator networks on 8-bit values packed eight to a {@code long} (SWAR min/max)
 * in long arrays, which HotSpot 17 vectorises. Each output row sorts the k window columns once and
 * merges neighbouring sorted columns into sorted pairs (work shared by every window containing
 * them), then a merge network pruned down to the median rank (see {@link SelectionNetwork}) runs on
 * shifted views of those pairs: 3 + 6 + 8, 9 + 13 + 56 and 16 + 21 + 142 comparators for 3x3, 5x5
 * and 7x7.
 *
 * <p>9x9 to 15x15: a bit-sliced radix selection. Each {@code long} holds one bit of 64 neighbouring
 * outputs (the row's bytes in HWC order), and for each bit from the top a carry-save adder tree
 * counts, lane by lane, how many window values still tied with the median's prefix have a 0 there;
 * comparing that count with the remaining rank decides the median's bit.
 */
final class MedianFilter {
  private static final VarHandle BYTES_AS_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private MedianFilter() {}

  /** Largest aperture served by comparator networks; larger ones use the bit-sliced selection. */
  private static final int MAX_NETWORK_KSIZE = 7;
  private static final SelectionNetwork[] COLUMN_SORT = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] PAIR_MERGE = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];
  private static final SelectionNetwork[] WINDOW_MEDIAN = new SelectionNetwork[MAX_NETWORK_KSIZE + 1];

  static {
    for (int k = 3; k <= MAX_NETWORK_KSIZE; k += 2) {
      COLUMN_SORT[k] = SelectionNetwork.sorting(k);
      PAIR_MERGE[k] = SelectionNetwork.forSortedGroups(new int[] {k, k}, 0, 2 * k - 1);
      // A window is k/2 sorted column pairs and one sorted column.
      int[] groups = new int[k / 2 + 1];
      Arrays.fill(groups, 2 * k);
      groups[k / 2] = k;
      int median = (k * k - 1) / 2;
      WINDOW_MEDIAN[k] = SelectionNetwork.forSortedGroups(groups, median, median);
    }
  }

  private static final long HIGH_BITS = 0x8080808080808080L;

  static ImageU8 median(ImageU8 src, int ksize) {
    if (ksize < 3 || ksize % 2 == 0 || ksize > 15) {
      throw new IllegalArgumentException("median kernel size must be odd in [3, 15], was " + ksize);
    }
    return ksize <= MAX_NETWORK_KSIZE ? medianNetwork(src, ksize) : medianBitSliced(src, ksize);
  }

  /**
   * Sorts each window column once per output row and merges neighbouring sorted columns into
   * sorted pairs (both shared by all the windows that contain them), then runs the pruned merge
   * network for the median on shifted views of the pairs. Values stay 8-bit, eight to a long
   * (SWAR min/max), in long arrays that HotSpot vectorises.
   */
  static ImageU8 medianNetwork(ImageU8 src, int k) {
    SelectionNetwork sort = COLUMN_SORT[k];
    SelectionNetwork pairs = PAIR_MERGE[k];
    SelectionNetwork select = WINDOW_MEDIAN[k];
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int r = k / 2;
    int rowLen = w * c;
    int paddedLen = (w + 2 * r) * c;
    int paddedLongs = (paddedLen + 7) >>> 3;
    int outLongs = (rowLen + 7) >>> 3;
    byte[] in = src.pixels();
    byte[] out = new byte[h * rowLen];
    // Padded source rows as longs, slot (py + r) % k; byte buffers have room for whole-long reads.
    long[][] ring = new long[k][paddedLongs];
    byte[] paddedBytes = new byte[paddedLongs * 8 + 8];
    long[][] columnWires = new long[k][paddedLongs];
    byte[][] sortedBytes = new byte[k][paddedLongs * 8 + 8 + c];
    long[][] pairWires = new long[2 * pairs.groupStride][paddedLongs];
    byte[][] pairBytes = new byte[2 * k][paddedLongs * 8 + 8];
    long[][] windowWires = new long[(r + 1) * select.groupStride][outLongs];
    for (int py = -r; py < r; py++) {
      padRow(in, Border.replicate(py, h), w, c, r, paddedBytes, ring[py + r]);
    }
    for (int y = 0; y < h; y++) {
      padRow(in, Border.replicate(y + r, h), w, c, r, paddedBytes, ring[(y + 2 * r) % k]);
      for (int dy = 0; dy < k; dy++) {
        System.arraycopy(ring[(y + dy) % k], 0, columnWires[dy], 0, paddedLongs);
      }
      run(sort, columnWires, paddedLongs);
      for (int rank = 0; rank < k; rank++) {
        toBytes(columnWires[sort.output[rank]], paddedLongs, sortedBytes[rank]);
      }
      // Sorted pairs of columns (x, x + 1), for every padded x.
      for (int rank = 0; rank < k; rank++) {
        fromBytes(sortedBytes[rank], 0, pairWires[rank], paddedLongs);
        fromBytes(sortedBytes[rank], c, pairWires[pairs.groupStride + rank], paddedLongs);
      }
      run(pairs, pairWires, paddedLongs);
      for (int rank = 0; rank < 2 * k; rank++) {
        toBytes(pairWires[pairs.output[rank]], paddedLongs, pairBytes[rank]);
      }
      // Window of output x: pairs starting at columns x-r, x-r+2, ..., and the single column x+r.
      for (int g = 0; g < r; g++) {
        for (int rank = 0; rank < 2 * k; rank++) {
          fromBytes(pairBytes[rank], 2 * g * c, windowWires[g * select.groupStride + rank], outLongs);
        }
      }
      for (int rank = 0; rank < k; rank++) {
        fromBytes(sortedBytes[rank], 2 * r * c, windowWires[r * select.groupStride + rank], outLongs);
      }
      run(select, windowWires, outLongs);
      long[] median = windowWires[select.output[(k * k - 1) / 2]];
      int base = y * rowLen;
      int whole = rowLen >>> 3;
      for (int i = 0; i < whole; i++) {
        BYTES_AS_LONG.set(out, base + i * 8, median[i]);
      }
      for (int i = whole * 8; i < rowLen; i++) {
        out[base + i] = (byte) (median[whole] >>> (8 * (i - whole * 8)));
      }
    }
    return new ImageU8(h, w, c, out);
  }

  private static void toBytes(long[] src, int n, byte[] dst) {
    for (int i = 0; i < n; i++) {
      BYTES_AS_LONG.set(dst, i * 8, src[i]);
    }
  }

  /** n longs read from bytes starting at byte offset: a shift by whole bytes. */
  private static void fromBytes(byte[] src, int offset, long[] dst, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] = (long) BYTES_AS_LONG.get(src, offset + i * 8);
    }
  }

  /** Row sy replicate-padded by r pixels, read into longs (eight bytes, little-endian, per long). */
  private static void padRow(byte[] in, int sy, int w, int c, int r, byte[] padded, long[] dst) {
    int rowLen = w * c;
    int rowStart = sy * rowLen;
    for (int x = 0; x < r; x++) {
      System.arraycopy(in, rowStart, padded, x * c, c);
      System.arraycopy(in, rowStart + rowLen - c, padded, (r + w + x) * c, c);
    }
    System.arraycopy(in, rowStart, padded, r * c, rowLen);
    for (int i = 0; i < dst.length; i++) {
      dst[i] = (long) BYTES_AS_LONG.get(padded, i * 8);
    }
  }

  private static void run(SelectionNetwork net, long[][] wires, int n) {
    for (int i = 0; i < net.size(); i++) {
      long[] lo = wires[net.low[i]];
      long[] hi = wires[net.high[i]];
      switch (net.kind[i]) {
        case SelectionNetwork.BOTH -> minMax(lo, hi, n);
        case SelectionNetwork.MIN_ONLY -> minOnly(lo, hi, n);
        default -> maxOnly(lo, hi, n);
      }
    }
  }

  /**
   * Bytewise unsigned min into lo and max into hi, eight lanes per long: the high bit of
   * ((x | 0x80) - (y & 0x7f)) per byte, fixed up by the bytes' own high bits, is x >= y.
   */
  private static void minMax(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      long swap = diff & ((ge << 8) - ge);
      lo[i] = x ^ swap;
      hi[i] = y ^ swap;
    }
  }

  private static void minOnly(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      lo[i] = x ^ (diff & ((ge << 8) - ge));
    }
  }

  private static void maxOnly(long[] lo, long[] hi, int n) {
    for (int i = 0; i < n; i++) {
      long x = lo[i];
      long y = hi[i];
      long diff = x ^ y;
      long geHigh = ((x & ~y) | (~diff & ((x | HIGH_BITS) - (y & ~HIGH_BITS)))) & HIGH_BITS;
      long ge = geHigh >>> 7;
      hi[i] = y ^ (diff & ((ge << 8) - ge));
    }
  }

  /** Transposes the 8x8 bit matrix whose row i is byte i: bit 8i+j moves to 8j+i. */
  static long transpose8(long x) {
    long t = (x ^ (x >>> 7)) & 0x00AA00AA00AA00AAL;
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >>> 14)) & 0x0000CCCC0000CCCCL;
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >>> 28)) & 0x00000000F0F0F0F0L;
    x = x ^ t ^ (t << 28);
    return x;
  }

  static ImageU8 medianBitSliced(ImageU8 src, int k) {
    int h = src.height();
    int w = src.width();
    int c = src.channels();
    int r = k / 2;
    int n = k * k;
    int rowLen = w * c;
    // Lanes are the row's bytes in HWC order, so the window's column dx is a shift by dx * c lanes
    // and channels need no separating.
    int nw = (rowLen + 63) >>> 6;
    int planeWords = nw + 1 + ((k - 1) * c >>> 6);
    // ring[((slot * k + dx) * nw + wi) * 8 + bit]: bit-plane `bit` of lanes wi*64 .. wi*64+63 of the
    // padded source row py (slot (py + r) % k), shifted by dx pixels.
    int slotLen = k * nw * 8;
    long[] ring = new long[k * slotLen];
    long[] planes = new long[8 * planeWords];
    byte[] padded = new byte[planeWords * 64 + 8]; // room for whole 8-byte reads past the row's end
    int[] offOf = new int[n];
    long[] alive = new long[n];
    long[] res = new long[8];
    byte[] out = new byte[h * rowLen];
    for (int py = -r; py < r; py++) {
      slice(src, Border.replicate(py, h), r, k, nw, planeWords, planes, padded, ring, (py + r) * slotLen);
    }
    for (int y = 0; y < h; y++) {
      slice(src, Border.replicate(y + r, h), r, k, nw, planeWords, planes, padded, ring,
          ((y + 2 * r) % k) * slotLen);
      for (int dy = 0, j = 0; dy < k; dy++) {
        int rowBase = ((y + dy) % k) * slotLen;
        for (int dx = 0; dx < k; dx++, j++) {
          offOf[j] = rowBase + dx * nw * 8;
        }
      }
      int outRow = y * rowLen;
      for (int wi = 0; wi < nw; wi++) {
        selectMedian(ring, offOf, wi * 8, n, alive, res);
        for (int g = 0; g < 8; g++) {
          int lane = wi * 64 + g * 8;
          if (lane >= rowLen) {
            break;
          }
          int shift = g * 8;
          long packed = 0;
          for (int b = 0; b < 8; b++) {
            packed |= ((res[b] >>> shift) & 0xFFL) << (8 * b);
          }
          long values = transpose8(packed);
          if (lane + 8 <= rowLen) {
            BYTES_AS_LONG.set(out, outRow + lane, values);
          } else {
            for (int i = 0; lane + i < rowLen; i++) {
              out[outRow + lane + i] = (byte) (values >>> (8 * i));
            }
          }
        }
      }
    }
    return new ImageU8(h, w, c, out);
  }

  /** Bit-planes of source row sy, replicate-padded by r pixels, pre-shifted for each window column. */
  private static void slice(ImageU8 src, int sy, int r, int k, int nw, int planeWords, long[] planes,
      byte[] padded, long[] ring, int slotStart) {
    int w = src.width();
    int c = src.channels();
    byte[] in = src.pixels();
    int rowLen = w * c;
    int rowStart = sy * rowLen;
    for (int x = 0; x < r; x++) {
      System.arraycopy(in, rowStart, padded, x * c, c);
      System.arraycopy(in, rowStart + rowLen - c, padded, (r + w + x) * c, c);
    }
    System.arraycopy(in, rowStart, padded, r * c, rowLen);
    int paddedLen = (w + 2 * r) * c;
    Arrays.fill(planes, 0L);
    // 8 lanes per long read, transposed into one byte of each of the 8 bit-planes.
    for (int x0 = 0; x0 < paddedLen && x0 < planeWords * 64; x0 += 8) {
      long bits = transpose8((long) BYTES_AS_LONG.get(padded, x0));
      int word = x0 >>> 6;
      int shift = x0 & 63;
      for (int b = 0; b < 8; b++) {
        planes[b * planeWords + word] |= ((bits >>> (8 * b)) & 0xFFL) << shift;
      }
    }
    for (int dx = 0; dx < k; dx++) {
      int words = (dx * c) >>> 6;
      int bits = (dx * c) & 63;
      int up = 63 - bits;
      for (int wi = 0; wi < nw; wi++) {
        int o = slotStart + (dx * nw + wi) * 8;
        for (int b = 0; b < 8; b++) {
          int p = b * planeWords + wi + words;
          ring[o + b] = (planes[p] >>> bits) | ((planes[p + 1] << 1) << up);
        }
      }
    }
  }

  /**
   * Median of the n window values in each of 64 lanes, bit by bit from the top: a lane's median bit
   * is 0 when more values tied with its prefix have a 0 there than its remaining rank t. Bit-plane b
   * of window value j is {@code ring[offOf[j] + wordOffset + b]}; res[b] receives the medians' plane b.
   */
  static void selectMedian(long[] ring, int[] offOf, int wordOffset, int n, long[] alive, long[] res) {
    int m = (n - 1) >>> 1;
    long t0 = -(long) (m & 1);
    long t1 = -(long) ((m >>> 1) & 1);
    long t2 = -(long) ((m >>> 2) & 1);
    long t3 = -(long) ((m >>> 3) & 1);
    long t4 = -(long) ((m >>> 4) & 1);
    long t5 = -(long) ((m >>> 5) & 1);
    long t6 = -(long) ((m >>> 6) & 1);
    long t7 = -(long) ((m >>> 7) & 1);
    long zero = 0; // lanes whose previous (higher) median bit was 0
    for (int b = 7; b >= 0; b--) {
      // Bit-sliced count Z (weights 1..128) of alive values with a 0 in bit b, Harley-Seal style;
      // the alive sets are narrowed by the previous level's decision on the way.
      boolean top = b == 7;
      long s0 = 0;
      long s1 = 0;
      long s2 = 0;
      long s3 = 0;
      long s4 = 0;
      long s5 = 0;
      long s6 = 0;
      long s7 = 0;
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        long x0 = zeroBitAlive(ring, offOf[j] + wordOffset, b, top, zero, alive, j);
        long x1 = zeroBitAlive(ring, offOf[j + 1] + wordOffset, b, top, zero, alive, j + 1);
        long x2 = zeroBitAlive(ring, offOf[j + 2] + wordOffset, b, top, zero, alive, j + 2);
        long x3 = zeroBitAlive(ring, offOf[j + 3] + wordOffset, b, top, zero, alive, j + 3);
        long x4 = zeroBitAlive(ring, offOf[j + 4] + wordOffset, b, top, zero, alive, j + 4);
        long x5 = zeroBitAlive(ring, offOf[j + 5] + wordOffset, b, top, zero, alive, j + 5);
        long x6 = zeroBitAlive(ring, offOf[j + 6] + wordOffset, b, top, zero, alive, j + 6);
        long x7 = zeroBitAlive(ring, offOf[j + 7] + wordOffset, b, top, zero, alive, j + 7);
        long u = s0 ^ x0;
        long twosA = (s0 & x0) | (u & x1);
        s0 = u ^ x1;
        u = s0 ^ x2;
        long twosB = (s0 & x2) | (u & x3);
        s0 = u ^ x3;
        u = s1 ^ twosA;
        long foursA = (s1 & twosA) | (u & twosB);
        s1 = u ^ twosB;
        u = s0 ^ x4;
        twosA = (s0 & x4) | (u & x5);
        s0 = u ^ x5;
        u = s0 ^ x6;
        twosB = (s0 & x6) | (u & x7);
        s0 = u ^ x7;
        u = s1 ^ twosA;
        long foursB = (s1 & twosA) | (u & twosB);
        s1 = u ^ twosB;
        u = s2 ^ foursA;
        long eights = (s2 & foursA) | (u & foursB);
        s2 = u ^ foursB;
        long carry = s3 & eights;
        s3 ^= eights;
        eights = s4 & carry;
        s4 ^= carry;
        carry = s5 & eights;
        s5 ^= eights;
        eights = s6 & carry;
        s6 ^= carry;
        s7 ^= eights;
      }
      for (; j < n; j++) {
        long x = zeroBitAlive(ring, offOf[j] + wordOffset, b, top, zero, alive, j);
        long carry = s0 & x;
        s0 ^= x;
        x = s1 & carry;
        s1 ^= carry;
        carry = s2 & x;
        s2 ^= x;
        x = s3 & carry;
        s3 ^= carry;
        carry = s4 & x;
        s4 ^= x;
        x = s5 & carry;
        s5 ^= carry;
        carry = s6 & x;
        s6 ^= x;
        s7 ^= carry;
      }
      // d = t - Z bit-sliced; the final borrow marks lanes with t < Z, whose median bit is 0.
      long x = t0 ^ s0;
      long d0 = x;
      long borrow = ~t0 & s0;
      x = t1 ^ s1;
      long d1 = x ^ borrow;
      borrow = (~t1 & s1) | (~x & borrow);
      x = t2 ^ s2;
      long d2 = x ^ borrow;
      borrow = (~t2 & s2) | (~x & borrow);
      x = t3 ^ s3;
      long d3 = x ^ borrow;
      borrow = (~t3 & s3) | (~x & borrow);
      x = t4 ^ s4;
      long d4 = x ^ borrow;
      borrow = (~t4 & s4) | (~x & borrow);
      x = t5 ^ s5;
      long d5 = x ^ borrow;
      borrow = (~t5 & s5) | (~x & borrow);
      x = t6 ^ s6;
      long d6 = x ^ borrow;
      borrow = (~t6 & s6) | (~x & borrow);
      x = t7 ^ s7;
      long d7 = x ^ borrow;
      borrow = (~t7 & s7) | (~x & borrow);
      zero = borrow;
      long one = ~zero;
      res[b] = one;
      t0 = (t0 & zero) | (d0 & one);
      t1 = (t1 & zero) | (d1 & one);
      t2 = (t2 & zero) | (d2 & one);
      t3 = (t3 & zero) | (d3 & one);
      t4 = (t4 & zero) | (d4 & one);
      t5 = (t5 & zero) | (d5 & one);
      t6 = (t6 & zero) | (d6 & one);
      t7 = (t7 & zero) | (d7 & one);
    }
  }

  /**
   * Narrows value j's alive mask by the previous bit's decision (lanes whose median bit was 0 keep
   * values with a 0 there, the others values with a 1), stores it, and returns the lanes where the
   * value is still alive and has a 0 in bit b.
   */
  private static long zeroBitAlive(long[] ring, int o, int b, boolean top, long zero, long[] alive, int j) {
    long a = top ? -1L : alive[j] & (ring[o + b + 1] ^ zero);
    alive[j] = a;
    return a & ~ring[o + b];
  }
}
