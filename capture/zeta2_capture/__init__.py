"""zeta2's shared contract and the capture of editing moments.

The daemon and the trainer both import this package, so everything they must agree on byte for
byte lives here: the example schema (`schema`), diffs and offsets (`diffs`, `offsets`), the prompt
format (`prompt`) and the edit metrics (`metrics`).
"""

__version__ = "0.1.0"
