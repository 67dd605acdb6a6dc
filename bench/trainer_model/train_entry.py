"""`zeta2-trainer train` without the CLI dispatcher (which imports every stage and its dependencies):
what the GPU machine runs, where only torch/transformers/peft/accelerate are installed."""

import argparse
import sys

from zeta2_trainer import train

parser = argparse.ArgumentParser(prog="zeta2-trainer train")
train.make_parser(parser)
sys.exit(train.main(parser.parse_args()))
