package io.tunefleet.examples;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSON object read with protobuf's own JSON parser into a {@link Struct} (the consumer needs no other JSON
 * library), with getters that name the missing or mistyped field by its path, e.g. {@code card: input.height}.
 */
record JsonDocument(String what, String path, Struct struct) {
  static JsonDocument parse(String what, String json) throws IOException {
    Struct.Builder b = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(what + " is not a JSON object: " + e.getMessage(), e);
    }
    return new JsonDocument(what, "", b.build());
  }

  boolean has(String field) {
    return struct.containsFields(field) && !struct.getFieldsOrThrow(field).hasNullValue();
  }

  private Value value(String field, Value.KindCase kind) throws IOException {
    if (!has(field)) {
      throw new IOException(what + ": " + path + field + " is missing");
    }
    Value v = struct.getFieldsOrThrow(field);
    if (v.getKindCase() != kind) {
      throw new IOException(what + ": " + path + field + " should be " + kind.name().toLowerCase().replace("_value", "")
          + ", was " + v.getKindCase().name().toLowerCase().replace("_value", ""));
    }
    return v;
  }

  JsonDocument object(String field) throws IOException {
    return new JsonDocument(what, path + field + ".", value(field, Value.KindCase.STRUCT_VALUE).getStructValue());
  }

  String string(String field) throws IOException {
    return value(field, Value.KindCase.STRING_VALUE).getStringValue();
  }

  double number(String field) throws IOException {
    return value(field, Value.KindCase.NUMBER_VALUE).getNumberValue();
  }

  /** A whole number; protobuf's JSON mapping writes int64 fields as strings, so both forms are accepted. */
  long integer(String field) throws IOException {
    Value v = has(field) ? struct.getFieldsOrThrow(field) : null;
    if (v != null && v.getKindCase() == Value.KindCase.STRING_VALUE) {
      try {
        return Long.parseLong(v.getStringValue());
      } catch (NumberFormatException e) {
        throw new IOException(what + ": " + path + field + " should be a whole number, was '" + v.getStringValue() + "'");
      }
    }
    double d = number(field);
    if (d != Math.rint(d)) {
      throw new IOException(what + ": " + path + field + " should be a whole number, was " + d);
    }
    return (long) d;
  }

  List<Value> list(String field) throws IOException {
    ListValue l = value(field, Value.KindCase.LIST_VALUE).getListValue();
    return l.getValuesList();
  }

  List<JsonDocument> objects(String field) throws IOException {
    List<JsonDocument> out = new ArrayList<>();
    List<Value> values = list(field);
    for (int i = 0; i < values.size(); i++) {
      if (!values.get(i).hasStructValue()) {
        throw new IOException(what + ": " + path + field + "[" + i + "] should be an object");
      }
      out.add(new JsonDocument(what, path + field + "[" + i + "].", values.get(i).getStructValue()));
    }
    return out;
  }
}
