"""A random-weight decoder-with-past ONNX graph of a given shape (Qwen2-like: GQA, RoPE, SwiGLU, RMSNorm).

For latency benchmarks where exporting a real model is not possible (the GPU machine has no optimum):
the graph has the same I/O as `zeta2-trainer export` packs (optimum layout + logits_to_keep +
next_token_ids), so zeta2_daemon.runtime.Runtime runs it unchanged. Standard ONNX ops only (opset 17).

    python bench/runtime/random_decoder.py OUT.onnx --shape qwen2.5-0.5b --dtype fp16
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHAPES = {
    # hidden, layers, heads, kv_heads, intermediate, vocab
    "qwen2.5-0.5b": (896, 24, 14, 2, 4864, 151936),
    "smollm2-135m": (576, 30, 9, 3, 1536, 49193),
    "tiny": (64, 2, 4, 2, 128, 1000),
}


def build(shape: str, dtype: str = "fp16", seed: int = 0):
    from onnx import TensorProto, helper, numpy_helper

    hidden, layers, heads, kv_heads, inter, vocab = SHAPES[shape]
    d = hidden // heads
    group = heads // kv_heads
    np_dtype = np.float16 if dtype == "fp16" else np.float32
    elem = TensorProto.FLOAT16 if dtype == "fp16" else TensorProto.FLOAT
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    count = [0]

    def w(name, *dims, std=0.02):
        inits.append(numpy_helper.from_array((rng.standard_normal(dims, dtype=np.float32) * std).astype(np_dtype), name))
        return name

    def c(value, name=None, dt=np.int64):
        count[0] += 1
        name = name or f"c{count[0]}"
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dt), name))
        return name

    def n(op, inputs, **attrs):
        count[0] += 1
        out = f"t{count[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def rms(x, weight):
        sq = n("Mul", [x, x])
        mean = n("ReduceMean", [sq], axes=[-1], keepdims=1)
        inv = n("Reciprocal", [n("Sqrt", [n("Add", [mean, c(1e-6, dt=np_dtype)])])])
        return n("Mul", [n("Mul", [x, inv]), weight])

    # rotary tables: [max_pos, d]
    max_pos = 32768
    inv_freq = 1.0 / (10000 ** (np.arange(0, d, 2, dtype=np.float64) / d))
    angles = np.outer(np.arange(max_pos), inv_freq)
    angles = np.concatenate([angles, angles], axis=1)
    cos_t = c(np.cos(angles), "rope_cos", np_dtype)
    sin_t = c(np.sin(angles), "rope_sin", np_dtype)

    x = n("Gather", [w("embed", vocab, hidden), "input_ids"])
    cos = n("Unsqueeze", [n("Gather", [cos_t, "position_ids"]), c([1])])  # [1,1,S,d]
    sin = n("Unsqueeze", [n("Gather", [sin_t, "position_ids"]), c([1])])
    # mask [1,1,group*S,T]: causal by physical index, and attention_mask's zeros
    seq = n("Gather", [n("Shape", ["input_ids"]), c(1)])
    total = n("Gather", [n("Shape", ["attention_mask"]), c(1)])
    past = n("Sub", [total, seq])
    t_idx = n("Range", [c(0), total, c(1)])
    s_idx = n("Add", [n("Range", [c(0), seq, c(1)]), past])
    causal = n("LessOrEqual", [n("Unsqueeze", [t_idx, c([0])]), n("Unsqueeze", [s_idx, c([1])])])
    pad = n("Cast", [n("Squeeze", ["attention_mask", c([0])])], to=TensorProto.BOOL)
    allowed = n("And", [causal, n("Unsqueeze", [pad, c([0])])])
    mask = n("Where", [allowed, c(0.0, dt=np_dtype), c(-60000.0 if dtype == "fp16" else -1e9, dt=np_dtype)])
    mask = n("Tile", [n("Unsqueeze", [mask, c([0, 1])]), c([1, 1, group, 1])])
    scale = c(1.0 / np.sqrt(d), dt=np_dtype)

    def rope(t):
        half1 = n("Slice", [t, c([0]), c([d // 2]), c([3])])
        half2 = n("Slice", [t, c([d // 2]), c([d]), c([3])])
        rotated = n("Concat", [n("Neg", [half2]), half1], axis=3)
        return n("Add", [n("Mul", [t, cos]), n("Mul", [rotated, sin])])

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_length"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
    ]
    outputs = []
    for i in range(layers):
        h = rms(x, w(f"l{i}.ln1", hidden, std=0) if False else c(np.ones(hidden), f"l{i}.ln1", np_dtype))
        q = n("Add", [n("MatMul", [h, w(f"l{i}.wq", hidden, heads * d)]), w(f"l{i}.bq", heads * d)])
        k = n("Add", [n("MatMul", [h, w(f"l{i}.wk", hidden, kv_heads * d)]), w(f"l{i}.bk", kv_heads * d)])
        v = n("Add", [n("MatMul", [h, w(f"l{i}.wv", hidden, kv_heads * d)]), w(f"l{i}.bv", kv_heads * d)])
        q = rope(n("Transpose", [n("Reshape", [q, c([1, -1, heads, d])])], perm=[0, 2, 1, 3]))
        k = rope(n("Transpose", [n("Reshape", [k, c([1, -1, kv_heads, d])])], perm=[0, 2, 1, 3]))
        v = n("Transpose", [n("Reshape", [v, c([1, -1, kv_heads, d])])], perm=[0, 2, 1, 3])
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", elem, ["batch_size", kv_heads, "past_sequence_length", d]))
        pk = f"present.{i}.key"
        pv = f"present.{i}.value"
        nodes.append(helper.make_node("Concat", [f"past_key_values.{i}.key", k], [pk], axis=2))
        nodes.append(helper.make_node("Concat", [f"past_key_values.{i}.value", v], [pv], axis=2))
        for name in (pk, pv):
            outputs.append(helper.make_tensor_value_info(name, elem, ["batch_size", kv_heads, "total_length", d]))
        qg = n("Reshape", [q, c([1, kv_heads, -1, d])])  # heads grouped per kv head: rows (group, S)
        scores = n("Add", [n("Mul", [n("MatMul", [qg, n("Transpose", [pk], perm=[0, 1, 3, 2])]), scale]), mask])
        attn = n("MatMul", [n("Softmax", [scores], axis=-1), pv])
        attn = n("Reshape", [n("Transpose", [n("Reshape", [attn, c([1, heads, -1, d])])], perm=[0, 2, 1, 3]), c([1, -1, hidden])])
        x = n("Add", [x, n("MatMul", [attn, w(f"l{i}.wo", heads * d, hidden)])])
        h = rms(x, c(np.ones(hidden), f"l{i}.ln2", np_dtype))
        gate = n("MatMul", [h, w(f"l{i}.wg", hidden, inter)])
        up = n("MatMul", [h, w(f"l{i}.wu", hidden, inter)])
        act = n("Mul", [n("Mul", [gate, n("Sigmoid", [gate])]), up])
        x = n("Add", [x, n("MatMul", [act, w(f"l{i}.wd", inter, hidden)])])
    x = rms(x, c(np.ones(hidden), "final_norm", np_dtype))
    inputs.append(helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, [1]))
    kept = n("Slice", [x, n("Neg", ["logits_to_keep"]), c([2**63 - 1]), c([1])])
    nodes.append(helper.make_node("MatMul", [kept, w("lm_head", hidden, vocab)], ["logits"]))
    nodes.append(helper.make_node("ArgMax", ["logits"], ["next_token_ids"], axis=-1, keepdims=0))
    outputs = [
        helper.make_tensor_value_info("logits", elem, ["batch_size", "logits_to_keep", vocab]),
        *outputs,
        helper.make_tensor_value_info("next_token_ids", TensorProto.INT64, ["batch_size", "logits_to_keep"]),
    ]
    graph = helper.make_graph(nodes, f"random-{shape}", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main() -> int:
    import onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-0.5b")
    parser.add_argument("--dtype", choices=("fp16", "fp32"), default="fp16")
    args = parser.parse_args()
    model = build(args.shape, args.dtype)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(args.output), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=args.output.name + ".data", size_threshold=1024)
    print(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
