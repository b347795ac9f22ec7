#!/usr/bin/python3
"""Writes internal/ortsmoke/testdata/affine.onnx and its golden output.

The model is y = relu(x @ W + b) with x: float32[2,4], W: float32[4,3], b: float32[3], built
with the onnx helper API (Debian's python3-onnx). The golden output is computed with numpy,
independently of ONNX Runtime. Run with Debian's interpreter: /usr/bin/python3 scripts/gen_ortsmoke.py
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = os.path.join(os.path.dirname(__file__), "..", "internal", "ortsmoke", "testdata")
rng = np.random.default_rng(20251125)
W = rng.standard_normal((4, 3)).astype(np.float32)
b = rng.standard_normal(3).astype(np.float32)
x = rng.standard_normal((2, 4)).astype(np.float32)

graph = helper.make_graph(
    [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["pre"]),
        helper.make_node("Relu", ["pre"], ["y"]),
    ],
    "affine",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="imagegem-go")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "affine.onnx"))

y = np.maximum(x.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64), 0)
with open(os.path.join(out, "affine_golden.json"), "w") as f:
    json.dump({"x": x.flatten().tolist(), "y": y.flatten().tolist()}, f, indent=1)
