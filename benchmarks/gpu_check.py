"""On a machine with an NVIDIA GPU: the NVML meter around a real torch MLP fit, on CUDA and CPU.

    python benchmarks/gpu_check.py [--rows 200000]

Prints, for the same MLP (same data, seed, epochs), the wall time, CPU-seconds and joules
per device, as read by kiss-automl's meters (NVML counter for the GPU, plus the CPU meter).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    from kiss_automl.energy import NvmlMeter, make_meter
    from kiss_automl.families.torch_mlp import TorchMLPClassifier

    gpu = NvmlMeter()
    print(json.dumps({"nvml_available": gpu.available(), "gpus": gpu.indices, "nvml_error": gpu.error}))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, 50)).astype(np.float32)
    y = (X[:, :5].sum(axis=1) + rng.normal(size=args.rows) > 0).astype(int)
    meter = make_meter()
    for device in ("cuda", "cpu"):
        model = TorchMLPClassifier(hidden_size=256, n_layers=2, batch_size=1024, max_epochs=args.epochs,
                                   patience=args.epochs, device=device, n_threads=1, random_state=0)
        token, started = meter.start(), time.perf_counter()
        model.fit(X, y)
        reading = meter.stop(token)
        accuracy = float((model.predict(X[:20000]) == y[:20000]).mean())
        print(json.dumps({"device": device, "wall_s": round(time.perf_counter() - started, 2),
                          "cpu_s": round(reading.cpu_seconds, 2), "joules": round(reading.joules, 1),
                          "gpu_joules": round(reading.gpu_joules, 1), "method": reading.method,
                          "epochs": model.n_epochs_, "train_accuracy": round(accuracy, 4)}))


if __name__ == "__main__":
    main()
