"""zeta2's offline trainer: data stages, teachers, fine-tuning, ONNX export and evaluation."""

__version__ = "0.1.0"
