#!/usr/bin/python3
"""Generates the real-size benchmark models (random weights, fixed seed) that
scripts/bench-models compiles and runs. fp32 ONNX files; ipusim compiles them with
--precision fp16, onnxruntime runs them as they are.

Usage: make_bench_models.py OUT_DIR [--only NAME ...]
Writes, into OUT_DIR (skipping a file that already exists):
  resnet50.onnx   ResNet-50 v1.5 (torchvision layout: stride on the 3x3 conv), batch 1,
                  224x224, inference form: batch norms folded into the convolutions' weights
                  and biases (as exporters do), Relu, residual Add, MaxPool,
                  GlobalAveragePool, Flatten, Gemm to 1000 classes. 25.6 M parameters.
  bert_base.onnx  BERT-base encoder: 12 post-norm layers, hidden 768, 12 heads, FFN 3072
                  (GELU through Erf), sequence 128, batch 1; input the embeddings [1,128,768].
                  85 M parameters.
  mlp.onnx        An MLP: [32,1024] -> 4096 -> 4096 -> 1000, Gemm (transB, as exported by
                  PyTorch) and Relu. 25 M parameters.
Weights are He-scaled so that activations stay O(1) through the depth (the last conv of each
residual block is scaled down, like zero-init-residual training leaves it), so that fp16
results can be compared with fp32 ones.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, prefix, array):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, prefix=None, **attrs):
        out = self.name(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def save(self, path, name, inputs, outputs):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="ipusim-bench")
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, path)


def conv(g, x, cin, cout, k, stride=1, relu=True, scale=1.0):
    """A convolution with its batch norm folded in: He-scaled weights, a small bias."""
    w = g.rng.standard_normal((cout, cin, k, k), dtype=np.float32) * np.float32(scale * np.sqrt(2.0 / (cin * k * k)))
    b = g.rng.standard_normal(cout, dtype=np.float32) * np.float32(0.05)
    pad = k // 2
    y = g.node("Conv", [x, g.const("w", w), g.const("b", b)], "conv", kernel_shape=[k, k],
               strides=[stride, stride], pads=[pad, pad, pad, pad])
    return g.node("Relu", [y], "relu") if relu else y


def resnet50(path):
    g = Graph(50)
    x = "input"
    y = conv(g, x, 3, 64, 7, stride=2)
    y = g.node("MaxPool", [y], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for blocks, width, stride in [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)]:
        for i in range(blocks):
            s = stride if i == 0 else 1
            cout = width * 4
            h = conv(g, y, cin, width, 1)
            h = conv(g, h, width, width, 3, stride=s)
            h = conv(g, h, width, cout, 1, relu=False, scale=0.2)
            shortcut = conv(g, y, cin, cout, 1, stride=s, relu=False) if i == 0 else y
            y = g.node("Relu", [g.node("Add", [h, shortcut], "add")], "relu")
            cin = cout
    y = g.node("GlobalAveragePool", [y], "avgpool")
    y = g.node("Flatten", [y], "flatten", axis=1)
    w = g.rng.standard_normal((1000, 2048), dtype=np.float32) * np.float32(np.sqrt(1.0 / 2048))
    b = np.zeros(1000, dtype=np.float32)
    y = g.node("Gemm", [y, g.const("fc_w", w), g.const("fc_b", b)], "fc", transB=1)
    g.nodes[-1].output[0] = "logits"
    g.save(path, "resnet50",
           [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
           [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])])


def bert_base(path, layers=12, seq=128, hidden=768, heads=12, ffn=3072):
    g = Graph(12)
    head = hidden // heads

    def linear(x, cin, cout):
        w = g.rng.standard_normal((cin, cout), dtype=np.float32) * np.float32(np.sqrt(1.0 / cin))
        b = g.rng.standard_normal(cout, dtype=np.float32) * np.float32(0.02)
        return g.node("Add", [g.node("MatMul", [x, g.const("w", w)], "matmul"), g.const("b", b)], "bias")

    def layer_norm(x):
        gamma = np.ones(hidden, dtype=np.float32)
        beta = np.zeros(hidden, dtype=np.float32)
        return g.node("LayerNormalization", [x, g.const("gamma", gamma), g.const("beta", beta)], "layernorm",
                      axis=-1, epsilon=1e-12)

    split = g.const("split_heads", np.array([1, seq, heads, head], dtype=np.int64))
    merge = g.const("merge_heads", np.array([1, seq, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(head), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = g.const("one", np.array(1.0, dtype=np.float32))
    rsqrt2 = g.const("rsqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    x = "hidden_states"
    for _ in range(layers):
        def heads_of(t, perm):
            return g.node("Transpose", [g.node("Reshape", [t, split], "reshape")], "transpose", perm=perm)
        q = heads_of(linear(x, hidden, hidden), [0, 2, 1, 3])   # [1, heads, seq, head]
        k = heads_of(linear(x, hidden, hidden), [0, 2, 3, 1])   # [1, heads, head, seq]
        v = heads_of(linear(x, hidden, hidden), [0, 2, 1, 3])
        scores = g.node("Mul", [g.node("MatMul", [q, k], "scores"), scale], "scaled")
        probs = g.node("Softmax", [scores], "softmax", axis=-1)
        context = g.node("MatMul", [probs, v], "context")
        context = g.node("Reshape", [g.node("Transpose", [context], "transpose", perm=[0, 2, 1, 3]), merge], "reshape")
        x = layer_norm(g.node("Add", [linear(context, hidden, hidden), x], "residual"))
        h = linear(x, hidden, ffn)
        gelu = g.node("Mul", [g.node("Mul", [h, half], "gelu"),
                              g.node("Add", [g.node("Erf", [g.node("Mul", [h, rsqrt2], "gelu")], "erf"), one], "gelu")],
                      "gelu")
        x = layer_norm(g.node("Add", [linear(gelu, ffn, hidden), x], "residual"))
    g.nodes[-1].output[0] = "output"
    g.save(path, "bert_base",
           [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, [1, seq, hidden])],
           [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, seq, hidden])])


def mlp(path, batch=32, sizes=(1024, 4096, 4096, 1000)):
    g = Graph(7)
    x = "input"
    for i, (cin, cout) in enumerate(zip(sizes, sizes[1:])):
        w = g.rng.standard_normal((cout, cin), dtype=np.float32) * np.float32(np.sqrt(2.0 / cin))
        b = g.rng.standard_normal(cout, dtype=np.float32) * np.float32(0.05)
        x = g.node("Gemm", [x, g.const("w", w), g.const("b", b)], "gemm", transB=1)
        if i + 2 < len(sizes):
            x = g.node("Relu", [x], "relu")
    g.nodes[-1].output[0] = "output"
    g.save(path, "mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, sizes[0]])],
           [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, sizes[-1]])])


MODELS = {"resnet50": resnet50, "bert_base": bert_base, "mlp": mlp}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name in args.only:
        path = os.path.join(args.out_dir, name + ".onnx")
        if not os.path.exists(path):
            MODELS[name](path)


if __name__ == "__main__":
    main()
