"""Moonshine (base) from the shipped `.ort` files to fast int8 ONNX models, once at assembly.

As shipped, Moonshine base keeps its weights as int8 with Cast/Mul/Add nodes that
de-quantize them on every run (~60 ms per decoder step), and ORT-format models
are not optimised again at load. So: rebuild ONNX graphs, let onnxruntime's
basic optimisation fold those weights to float once, split the merged decoder's
`If` (first step vs. with KV cache) into two models so neither carries the other
branch, and quantize the MatMul weights back to int8 with onnxruntime's dynamic
quantization (int8 GEMMs instead of a de-quantization per step).
Deterministic; about a minute on 2 cores.
"""
from __future__ import annotations

import pathlib
import shutil
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

# The transcriber imports these names; onnx itself (slow to import) is loaded only to build.
ENCODER, DECODER_FIRST, DECODER_CACHED = "encoder.onnx", "decoder_first.onnx", "decoder_cached.onnx"
SHIPPED_ENCODER, SHIPPED_DECODER = "encoder_model.ort", "decoder_model_merged.ort"
CACHE_FLAG = "use_cache_branch"


def build(folder: pathlib.Path) -> None:
    """Writes ENCODER, DECODER_FIRST and DECODER_CACHED beside the shipped `.ort` files in `folder`."""
    import onnx

    from soundloop.model_build import ort_format

    work = pathlib.Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    try:
        encoder = _folded(ort_format.load(folder / SHIPPED_ENCODER), work / "encoder")
        _quantize(encoder, work / ENCODER)
        decoder = _folded(ort_format.load(folder / SHIPPED_DECODER), work / "decoder")
        for cached, name in ((False, DECODER_FIRST), (True, DECODER_CACHED)):
            branch = work / f"{name}.float.onnx"
            onnx.save(split_decoder(decoder, cached), branch)
            _quantize(branch, work / name)
        for name in (ENCODER, DECODER_FIRST, DECODER_CACHED):
            (work / name).replace(folder / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _folded(model: onnx.ModelProto, stem: pathlib.Path) -> onnx.ModelProto:
    """The model after onnxruntime's basic optimisation (constant folding and the like)."""
    import onnx
    import onnxruntime as ort

    source, folded = stem.with_suffix(".onnx"), stem.with_suffix(".folded.onnx")
    onnx.save(model, source)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(folded)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return onnx.load(folded)


def _quantize(source: pathlib.Path, target: pathlib.Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # MatMul only: its weights are nearly all of the model; activation x activation products stay float.
    quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                     extra_options={"MatMulConstBOnly": True})


def split_decoder(model: onnx.ModelProto, cached: bool) -> onnx.ModelProto:
    """One branch of the merged decoder's `If` as a model of its own.

    The first-step model takes input_ids + encoder_hidden_states and returns logits
    and every present key/value; the cached one takes the past key/values and
    returns logits and the decoder's presents only (its encoder presents are dummies).
    """
    import onnx
    from onnx import helper

    graph = model.graph
    (branch_node,) = [n for n in graph.node if n.op_type == "If"]
    branch = next(a.g for a in branch_node.attribute if a.name == ("then_branch" if cached else "else_branch"))
    # Branch outputs take the If's output names; a branch that passes a value straight through gets an Identity.
    rename = {}
    produced = {out for n in branch.node for out in n.output}
    extra = []
    for inner, outer in zip((o.name for o in branch.output), branch_node.output, strict=True):
        if inner in produced:
            rename[inner] = outer
        else:
            extra.append(helper.make_node("Identity", [inner], [outer]))
    nodes = [n for n in graph.node if n is not branch_node]
    outer_names = {out for n in nodes for out in n.output} | {t.name for t in graph.initializer}
    if clash := outer_names & (produced | {t.name for t in branch.initializer}):
        raise ValueError(f"branch names clash with the outer graph: {sorted(clash)[:5]}")
    for node in branch.node:
        node = onnx.NodeProto.FromString(node.SerializeToString())
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
        nodes.append(node)
    nodes += extra
    outputs = [o for o in graph.output if not (cached and ".encoder." in o.name)]
    inputs = [i for i in graph.input if i.name != CACHE_FLAG]
    out = helper.make_graph(nodes, f"decoder_{'cached' if cached else 'first'}", inputs, outputs,
                            [*graph.initializer, *branch.initializer])
    _prune(out)
    return helper.make_model(out, opset_imports=model.opset_import, ir_version=model.ir_version,
                             producer_name="soundloop.model_build.moonshine")


def _prune(graph: onnx.GraphProto) -> None:
    """Drops nodes, initializers and inputs that no output depends on."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if needed.intersection(node.output):
            keep.append(node)
            needed.update(node.input)
    graph.ClearField("node")
    graph.node.extend(reversed(keep))
    initializers = [t for t in graph.initializer if t.name in needed]
    graph.ClearField("initializer")
    graph.initializer.extend(initializers)
    inputs = [i for i in graph.input if i.name in needed]
    graph.ClearField("input")
    graph.input.extend(inputs)
