"""Benchmark: loading all of MNIST (70,000 images) into tensors, as a fresh process does.

    python bench/bench_data.py [--repeat 5]

Each repeat is a new interpreter (torch already imported, as in every kit process)
that reads the four IDX files, checks their sha256 and builds the normalized float32
tensors of both collections. Target: well under a second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent

ONE_LOAD = """
import time, torch
from grader.authoring.kit_mnist import mnist
start = time.perf_counter()
X, y = mnist.tensors("train")
Xt, yt = mnist.tensors("test")
assert X.shape == (60000, 784) and Xt.shape == (10000, 784)
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", ONE_LOAD],
                cwd=KIT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    print(
        "all 70,000 MNIST images to tensors, fresh process: "
        f"median {statistics.median(times):.3f} s, max {max(times):.3f} s ({args.repeat} runs)"
    )


if __name__ == "__main__":
    main()
