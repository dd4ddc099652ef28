"""The torch MLP family: the most expensive rung, tried last."""

from __future__ import annotations

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from .base import BuildContext, Family

SPACE = {
    "hidden_size": IntDistribution(16, 256, log=True),
    "n_layers": IntDistribution(1, 4),
    "dropout": FloatDistribution(0.0, 0.5),
    "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
    "batch_size": CategoricalDistribution([64, 128, 256, 512]),
}
# A small net with an epoch cap: cheap, and early stopping ends it sooner when it can.
LOW_COST = {"hidden_size": 64, "n_layers": 2, "dropout": 0.1, "learning_rate": 1e-3,
            "weight_decay": 1e-5, "batch_size": 128}
MAX_EPOCHS = 60


def build(params: dict, context: BuildContext):
    from .torch_mlp import TorchMLPClassifier, TorchMLPRegressor

    cls = TorchMLPRegressor if context.task == "regression" else TorchMLPClassifier
    return cls(**{**LOW_COST, **params}, max_epochs=MAX_EPOCHS, patience=5, device=context.device,
               n_threads=context.n_threads, random_state=context.random_state)


MLP = Family(
    name="mlp",
    group="neural",
    preprocessing="onehot",
    build=build,
    spaces={"classification": SPACE, "regression": SPACE},
    starts={"classification": (LOW_COST,), "regression": (LOW_COST,)},
    requires=("torch",),
    # Measured here: its low-cost probe costs 7-40x a default LightGBM (torch's import
    # included), so it runs only when tuning judges it worth that energy.
    probe_first=False,
    uses_gpu=True,
)
