#!/usr/bin/python3
"""Generates the ONNX models and fusion configs that the demo and the tests use.

Usage: make_models.py OUT_DIR
Writes, into OUT_DIR:
  model0.onnx        seed fp32: O = Reshape(X[1,2] + Y[1,2], [2])
  model1.onnx        seed fp16: O = Concat([X[1,1], [[1.5, 2.0]]], axis=1)
  model0_sub.onnx    model0's anchors, another function: O = Reshape(X[1,2] - Y[1,2], [2])
  model_int8.onnx    int8, two outputs: S = A[2,3] + B[3]; R = Relu(A - B)
  temps_a.onnx       fp32 [64,64] chain with temporaries: O = (X*X + X) - X
  temps_b.onnx       fp32 [64,64] chain with temporaries: O = Relu(X - Y) * (X + Y)
  dynamic.onnx       X[N,2] -> Relu: shape cannot be made static without an override
  folding.onnx       O = X[4] + (A[4] * B[4]) with A, B initializers: A * B folds at compile time
  huge.onnx          X[1,200000000] -> Relu: does not fit the tiles' memory
  config.yaml        the seed fusion config of DESIGN.md, unchanged
  config3.yaml       three models: fp32, fp16 and int8
  config_temps.yaml  temps_a and temps_b fused
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]


def save(graph, path):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="ipusim-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def model0(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [2])
    shape = numpy_helper.from_array(np.array([2], dtype=np.int64), "shape")
    nodes = [helper.make_node("Add", ["X", "Y"], ["S"]),
             helper.make_node("Reshape", ["S", "shape"], ["O"])]
    save(helper.make_graph(nodes, "model0", [x, y], [o], [shape]), os.path.join(out, "model0.onnx"))


def model0_sub(out):
    # Same names, dtypes and shapes as model0: `compare` must catch it by its outputs.
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [2])
    shape = numpy_helper.from_array(np.array([2], dtype=np.int64), "shape")
    nodes = [helper.make_node("Sub", ["X", "Y"], ["S"]),
             helper.make_node("Reshape", ["S", "shape"], ["O"])]
    save(helper.make_graph(nodes, "model0_sub", [x, y], [o], [shape]),
         os.path.join(out, "model0_sub.onnx"))


def model1(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT16, [1, 1])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT16, [1, 3])
    c = numpy_helper.from_array(np.array([[1.5, 2.0]], dtype=np.float16), "C")
    nodes = [helper.make_node("Concat", ["X", "C"], ["O"], axis=1)]
    save(helper.make_graph(nodes, "model1", [x], [o], [c]), os.path.join(out, "model1.onnx"))


def model_int8(out):
    a = helper.make_tensor_value_info("A", TensorProto.INT8, [2, 3])
    b = helper.make_tensor_value_info("B", TensorProto.INT8, [3])
    s = helper.make_tensor_value_info("S", TensorProto.INT8, [2, 3])
    r = helper.make_tensor_value_info("R", TensorProto.INT8, [2, 3])
    nodes = [helper.make_node("Add", ["A", "B"], ["S"]),
             helper.make_node("Sub", ["A", "B"], ["D"]),
             helper.make_node("Relu", ["D"], ["R"])]
    graph = helper.make_graph(nodes, "model_int8", [a, b], [s, r])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "model_int8.onnx"))


def temps_a(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [64, 64])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [64, 64])
    nodes = [helper.make_node("Mul", ["X", "X"], ["T1"]),
             helper.make_node("Add", ["T1", "X"], ["T2"]),
             helper.make_node("Sub", ["T2", "X"], ["O"])]
    save(helper.make_graph(nodes, "temps_a", [x], [o]), os.path.join(out, "temps_a.onnx"))


def temps_b(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [64, 64])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [64, 64])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [64, 64])
    nodes = [helper.make_node("Sub", ["X", "Y"], ["D"]),
             helper.make_node("Relu", ["D"], ["R"]),
             helper.make_node("Add", ["X", "Y"], ["S"]),
             helper.make_node("Mul", ["R", "S"], ["O"])]
    save(helper.make_graph(nodes, "temps_b", [x, y], [o]), os.path.join(out, "temps_b.onnx"))


def dynamic(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, ["N", 2])
    nodes = [helper.make_node("Relu", ["X"], ["O"])]
    save(helper.make_graph(nodes, "dynamic", [x], [o]), os.path.join(out, "dynamic.onnx"))


def folding(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [4])
    a = numpy_helper.from_array(np.array([1, 2, 3, 4], dtype=np.float32), "A")
    b = numpy_helper.from_array(np.array([0.5, 0.5, 2, 2], dtype=np.float32), "B")
    nodes = [helper.make_node("Mul", ["A", "B"], ["P"]),
             helper.make_node("Add", ["X", "P"], ["O"])]
    save(helper.make_graph(nodes, "folding", [x], [o], [a, b]), os.path.join(out, "folding.onnx"))


def huge(out):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 200000000])
    o = helper.make_tensor_value_info("O", TensorProto.FLOAT, [1, 200000000])
    nodes = [helper.make_node("Relu", ["X"], ["O"])]
    save(helper.make_graph(nodes, "huge", [x], [o]), os.path.join(out, "huge.onnx"))


SEED_CONFIG = """output_dir: './'
output_model: 'executable'
export_popef: True
max_tensor_size: -1
ipu_version: 'ipu21'
model_fusion:
  - input_model: 'model0.onnx'
    input_shape: ['X=1,2', 'Y=1,2']
    precision: 'fp32'
  - input_model: 'model1.onnx'
    input_shape: ['X=1,1']
    precision: 'fp16'
"""

CONFIG3 = """output_dir: './'
output_model: 'executable3'
ipu_version: 'ipu2'
model_fusion:
  - input_model: 'model0.onnx'
    precision: 'fp32'
  - input_model: 'model1.onnx'
    precision: 'fp16'
  - input_model: 'model_int8.onnx'
"""

CONFIG_TEMPS = """output_dir: './'
output_model: 'executable_temps'
model_fusion:
  - input_model: 'temps_a.onnx'
  - input_model: 'temps_b.onnx'
"""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (model0, model0_sub, model1, model_int8, temps_a, temps_b, dynamic, folding, huge):
        make(out)
    for name, text in (("config.yaml", SEED_CONFIG), ("config3.yaml", CONFIG3),
                       ("config_temps.yaml", CONFIG_TEMPS)):
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
