"""zeta2's language server and model runtime (onnxruntime; never torch)."""

__version__ = "0.1.0"
