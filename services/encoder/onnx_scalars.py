"""Reads scalar initializers (quantization scales and zero points) from an ONNX file.

onnxruntime does not expose initializers and the `onnx` package is a heavy
dependency for four numbers, so this walks the protobuf wire format of
ModelProto.graph.initializer directly.
"""
from __future__ import annotations

import pathlib
import struct

import numpy as np

# onnx.proto field numbers.
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_TENSOR_DATA_TYPE, _TENSOR_FLOAT_DATA, _TENSOR_INT32_DATA, _TENSOR_NAME, _TENSOR_RAW_DATA = 2, 4, 5, 8, 9
# TensorProto.DataType -> numpy dtype, for the types quantized models use.
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """Yields (field number, wire type, value) of one message; LEN values as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _scalar(tensor: bytes) -> tuple[str, float | None]:
    name, dtype, raw, floats, ints = "", None, None, None, None
    for field, wire, value in _fields(tensor):
        if field == _TENSOR_NAME:
            name = value.decode()
        elif field == _TENSOR_DATA_TYPE:
            dtype = _DTYPES.get(value)
        elif field == _TENSOR_RAW_DATA:
            raw = value
        elif field == _TENSOR_FLOAT_DATA:
            floats = struct.unpack("<f", value[:4])[0]
        elif field == _TENSOR_INT32_DATA:
            ints = _varint(value, 0)[0] if wire == 2 else value
    if raw is not None and dtype is not None and len(raw) == np.dtype(dtype).itemsize:
        return name, float(np.frombuffer(raw, dtype=dtype)[0])
    return name, floats if floats is not None else (float(ints) if ints is not None else None)


def read_scalars(path: pathlib.Path, names: set[str]) -> dict[str, float]:
    """Values of the named one-element initializers; raises KeyError naming any missing."""
    model = path.read_bytes()
    graph = next((v for f, w, v in _fields(model) if f == _MODEL_GRAPH and w == 2), b"")
    found: dict[str, float] = {}
    for field, wire, value in _fields(graph):
        if field == _GRAPH_INITIALIZER and wire == 2:
            name, scalar = _scalar(value)
            if name in names and scalar is not None:
                found[name] = scalar
    missing = names - found.keys()
    if missing:
        raise KeyError(f"{path} has no scalar initializers {sorted(missing)}")
    return found
