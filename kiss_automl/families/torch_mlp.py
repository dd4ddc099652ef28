"""Torch multi-layer perceptrons for tabular data, as scikit-learn estimators.

The most expensive model family of kiss-automl. Two estimators share one private base:

* :class:`TorchMLPClassifier` -- cross-entropy on label-encoded classes, ``predict_proba``;
* :class:`TorchMLPRegressor` -- mean squared error on a standardized 1-D target.

The input is an already preprocessed numeric matrix (dense array or scipy sparse matrix:
the pipeline imputes, one-hot encodes and scales before this step). The network,
``[Linear -> ReLU -> Dropout] x n_layers -> Linear``, is built in ``fit``; a stratified
(classifier) validation share of the rows is held out, training stops when the validation
loss has not improved for ``patience`` epochs, and the best weights are restored.

Torch is imported lazily, inside ``fit`` and ``predict``: importing this module is instant.

Persistence: ``__getstate__`` replaces the torch module by a plain description (layer sizes
and the ``state_dict`` as float32 numpy arrays), so pickle and ``skops.io`` both work and a
skops file lists only numpy/builtin types and this module's classes as untrusted. The module
is rebuilt on the first prediction after loading (torch is imported then, not at load time).
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.5

    def _validate_data(estimator, X="no_validation", y="no_validation", **kwargs):
        return estimator._validate_data(X, y, **kwargs)


__all__ = ["TorchMLPClassifier", "TorchMLPRegressor"]

# Below this many rows no validation split is made: the model trains for ``max_epochs``.
_MIN_ROWS_FOR_VALIDATION = 20
# Rows per forward pass when predicting or computing the validation loss.
_PREDICT_BATCH_SIZE = 8192
# A validation loss must beat the best one by more than this to count as an improvement.
_IMPROVEMENT_TOL = 1e-4
_STATE_KEY = "_module_state"  # the state_dict as numpy arrays, in pickled state only


# --------------------------------------------------------------------------------------
# helpers (torch is always passed in or imported locally)
# --------------------------------------------------------------------------------------


def _build_network(torch, n_inputs: int, n_outputs: int, hidden_size: int, n_layers: int,
                   dropout: float):
    """``[Linear -> ReLU -> Dropout] x n_layers -> Linear`` as an ``nn.Sequential``."""
    nn = torch.nn
    layers: list[Any] = []
    width = n_inputs
    for _ in range(n_layers):
        layers.append(nn.Linear(width, hidden_size))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden_size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


@contextlib.contextmanager
def _torch_threads(torch, n_threads):
    """Use ``n_threads`` intra-op threads inside the block, then restore the previous value."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    if previous != n_threads:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def _resolve_device(torch, device: str, *, for_fit: bool):
    """``"auto"`` -> CUDA when available, else CPU. At predict time a CUDA request on a
    machine without CUDA falls back to the CPU (a model trained on a GPU stays usable)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        if for_fit:
            raise RuntimeError(f"device={device!r} was requested but CUDA is not available")
        return torch.device("cpu")
    return dev


def _to_dense_float32(X) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.toarray(), dtype=np.float32)
    return np.asarray(X, dtype=np.float32)


# --------------------------------------------------------------------------------------
# shared base
# --------------------------------------------------------------------------------------


class _BaseTorchMLP(BaseEstimator):
    """Shared fit/predict machinery; subclasses define the target handling and the loss."""

    def __init__(
        self,
        *,
        hidden_size=64,
        n_layers=2,
        dropout=0.1,
        learning_rate=1e-3,
        weight_decay=1e-5,
        batch_size=128,
        max_epochs=50,
        patience=5,
        validation_fraction=0.1,
        device="auto",
        n_threads=1,
        random_state=None,
    ):
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    # ----- subclass hooks ---------------------------------------------------------------

    _y_numeric = False

    def _prepare_target(self, y) -> tuple[np.ndarray, int]:  # pragma: no cover - abstract
        """Validate/encode ``y``; set target attributes; return (encoded y, n_outputs)."""
        raise NotImplementedError

    def _stratify_labels(self, y_enc):
        return None

    def _loss_fn(self, torch):  # pragma: no cover - abstract
        raise NotImplementedError

    # ----- parameter checks -------------------------------------------------------------

    def _check_params(self) -> None:
        def _int(name, low):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")

        _int("hidden_size", 1)
        _int("n_layers", 0)
        _int("batch_size", 1)
        _int("max_epochs", 1)
        _int("patience", 1)
        if self.n_threads is not None:
            _int("n_threads", 1)
        if not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {self.learning_rate!r}")
        if not isinstance(self.weight_decay, numbers.Real) or not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0; got {self.weight_decay!r}")
        vf = self.validation_fraction
        if not isinstance(vf, numbers.Real) or not 0 <= vf < 1:
            raise ValueError(f"validation_fraction must be in [0, 1); got {vf!r}")
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu") or self.device.startswith("cuda")
        ):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]'; got {self.device!r}")

    # ----- fit --------------------------------------------------------------------------

    def fit(self, X, y):
        """Train the network on ``X`` (n_samples, n_features) and 1-D ``y``."""
        self._check_params()
        X, y = _validate_data(self, X, y, accept_sparse="csr", dtype=np.float32,
                              y_numeric=self._y_numeric)
        y_enc, n_outputs = self._prepare_target(y)
        X = _to_dense_float32(X)
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        train_idx, valid_idx = self._split(len(X), y_enc, seed)

        # Drop what a previous fit left behind.
        self.__dict__.pop("module_", None)
        self.__dict__.pop(_STATE_KEY, None)

        import torch

        device = _resolve_device(torch, self.device, for_fit=True)
        fork_devices: list[int] = []
        if device.type == "cuda":
            fork_devices = [device.index if device.index is not None else torch.cuda.current_device()]
        with _torch_threads(torch, self.n_threads), torch.random.fork_rng(devices=fork_devices):
            # Local seeding: the result does not depend on, and does not change, the global
            # RNG state (fork_rng restores it on exit).
            torch.default_generator.manual_seed(seed)
            if fork_devices:
                with torch.cuda.device(fork_devices[0]):
                    torch.cuda.manual_seed(seed)
            arch = {"n_inputs": int(X.shape[1]), "n_outputs": int(n_outputs),
                    "hidden_size": int(self.hidden_size), "n_layers": int(self.n_layers),
                    "dropout": float(self.dropout)}
            module = _build_network(torch, **arch).to(device)
            self._train(torch, module, device, X, y_enc, train_idx, valid_idx, seed)
        module.eval()
        self.module_ = module
        self._architecture = arch  # plain ints/floats: what persistence needs to rebuild it
        self.device_ = str(device)
        return self

    def _split(self, n_samples: int, y_enc, seed: int):
        """Indices of the training and validation rows (validation may be empty)."""
        all_idx = np.arange(n_samples)
        n_valid = int(round(self.validation_fraction * n_samples))
        if n_samples < _MIN_ROWS_FOR_VALIDATION or n_valid < 1 or n_samples - n_valid < 1:
            return all_idx, all_idx[:0]
        rng = np.random.RandomState(seed)
        strata = self._stratify_labels(y_enc)
        if strata is not None:
            counts = np.bincount(strata)
            counts = counts[counts > 0]
            if counts.min() >= 2 and len(counts) <= n_valid <= n_samples - len(counts):
                from sklearn.model_selection import StratifiedShuffleSplit

                splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=rng)
                train_idx, valid_idx = next(splitter.split(np.zeros((n_samples, 1)), strata))
                return np.sort(train_idx), np.sort(valid_idx)
        perm = rng.permutation(n_samples)
        return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])

    def _train(self, torch, module, device, X, y_enc, train_idx, valid_idx, seed) -> None:
        loss_fn = self._loss_fn(torch)

        def tensor(a):
            a = np.ascontiguousarray(a)
            if not a.flags.writeable:
                a = a.copy()
            return torch.from_numpy(a).to(device)

        X_tr, y_tr = tensor(X[train_idx]), tensor(y_enc[train_idx])
        has_valid = len(valid_idx) > 0
        if has_valid:
            X_va, y_va = tensor(X[valid_idx]), tensor(y_enc[valid_idx])

        optimizer = torch.optim.AdamW(module.parameters(), lr=float(self.learning_rate),
                                      weight_decay=float(self.weight_decay))
        generator = torch.Generator().manual_seed(seed)
        n_train = len(train_idx)
        batch_size = int(self.batch_size)

        history: list[dict[str, Any]] = []
        best_loss = np.inf
        best_state = None
        best_epoch = 0
        epochs_without_improvement = 0
        epoch = 0
        for epoch in range(1, int(self.max_epochs) + 1):
            module.train()
            perm = torch.randperm(n_train, generator=generator).to(device)
            total = torch.zeros((), dtype=torch.float64, device=device)
            for start in range(0, n_train, batch_size):
                idx = perm[start:start + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(module(X_tr[idx]), y_tr[idx])
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(idx)
            train_loss = float(total) / n_train

            valid_loss = None
            if has_valid:
                module.eval()
                valid_loss = self._mean_loss(torch, module, loss_fn, X_va, y_va)
            history.append({"epoch": epoch, "train_loss": train_loss, "valid_loss": valid_loss})

            if not has_valid:
                continue
            if not np.isfinite(valid_loss):
                break
            if valid_loss < best_loss - _IMPROVEMENT_TOL:
                best_loss = valid_loss
                best_epoch = epoch
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                epochs_without_improvement = 0
            else:
                epochs_without_improvement += 1
                if epochs_without_improvement >= self.patience:
                    break

        if best_state is not None:
            module.load_state_dict(best_state)
        else:
            best_epoch = epoch
        self.n_epochs_ = epoch
        self.best_epoch_ = best_epoch
        self.history_ = history

    @staticmethod
    def _mean_loss(torch, module, loss_fn, X_t, y_t) -> float:
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(X_t), _PREDICT_BATCH_SIZE):
                stop = start + _PREDICT_BATCH_SIZE
                out = module(X_t[start:stop])
                total += float(loss_fn(out, y_t[start:stop])) * len(out)
        return total / len(X_t)

    # ----- predict ----------------------------------------------------------------------

    def _forward(self, X) -> np.ndarray:
        """Raw network outputs (n_samples, n_outputs) as float32 numpy, computed in batches."""
        check_is_fitted(self)
        X = _validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)

        import torch

        with _torch_threads(torch, self.n_threads):
            module = self._get_module(torch)
            device = next(module.parameters()).device
            outputs = []
            with torch.inference_mode():
                for start in range(0, X.shape[0], _PREDICT_BATCH_SIZE):
                    batch = _to_dense_float32(X[start:start + _PREDICT_BATCH_SIZE])
                    xb = torch.tensor(batch, dtype=torch.float32, device=device)
                    outputs.append(module(xb).cpu().numpy())
        return np.concatenate(outputs, axis=0)

    def _get_module(self, torch):
        """The fitted torch module; rebuilt from its plain description after loading."""
        module = self.__dict__.get("module_")
        if module is not None:
            return module
        arch = self._architecture
        device = _resolve_device(torch, self.device, for_fit=False)
        module = _build_network(torch, **arch)
        state = {
            k: torch.tensor(np.asarray(v, dtype=np.float32))
            for k, v in self.__dict__[_STATE_KEY].items()
        }
        module.load_state_dict(state)
        module.to(device).eval()
        self.module_ = module
        del self.__dict__[_STATE_KEY]
        return module

    # ----- persistence ------------------------------------------------------------------

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never mutate the live __dict__
        module = state.pop("module_", None)
        if module is not None:
            state[_STATE_KEY] = {
                str(k): v.detach().cpu().numpy().astype(np.float32)
                for k, v in module.state_dict().items()
            }
        return state

    def __setstate__(self, state):
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# --------------------------------------------------------------------------------------
# public estimators
# --------------------------------------------------------------------------------------


class TorchMLPClassifier(ClassifierMixin, _BaseTorchMLP):
    """Multi-layer perceptron classifier (torch), trained with early stopping.

    Parameters
    ----------
    hidden_size : int, default=64
        Units of every hidden layer.
    n_layers : int, default=2
        Hidden layers (``Linear -> ReLU -> Dropout``); 0 gives a linear model.
    dropout : float, default=0.1
        Dropout probability after each hidden layer.
    learning_rate, weight_decay : float
        AdamW settings.
    batch_size : int, default=128
        Mini-batch size.
    max_epochs : int, default=50
        Epoch cap.
    patience : int, default=5
        Stop after this many epochs without improvement of the validation loss.
    validation_fraction : float, default=0.1
        Share of rows held out (stratified) for early stopping; 0, or fewer than 20 rows,
        means no validation: training runs ``max_epochs`` epochs.
    device : {"auto", "cpu", "cuda"}, default="auto"
        "auto" uses CUDA when available.
    n_threads : int or None, default=1
        Torch intra-op threads during fit/predict (restored afterwards); None leaves them.
    random_state : int, RandomState instance or None
        Seeds the split, the initialisation, the shuffles and dropout.

    Attributes
    ----------
    classes_, n_features_in_, n_epochs_, best_epoch_, history_, device_, module_
    """

    def _prepare_target(self, y):
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                f"{self.classes_[0]!r}"
            )
        return y_enc.astype(np.int64).ravel(), len(self.classes_)

    def _stratify_labels(self, y_enc):
        return y_enc

    def _loss_fn(self, torch):
        return torch.nn.CrossEntropyLoss()

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        check_is_fitted(self)
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        check_is_fitted(self)
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class of every row."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self._forward(X), axis=1)]


class TorchMLPRegressor(RegressorMixin, _BaseTorchMLP):
    """Multi-layer perceptron regressor (torch) on a standardized 1-D target.

    Same parameters as :class:`TorchMLPClassifier` (the validation split is not stratified).

    Attributes
    ----------
    n_features_in_, y_mean_, y_std_, n_epochs_, best_epoch_, history_, device_, module_
    """

    _y_numeric = True

    def _prepare_target(self, y):
        y = np.asarray(y, dtype=np.float64).ravel()
        mean = float(y.mean())
        std = float(y.std())
        if not np.isfinite(std) or std <= 0:
            std = 1.0
        self.y_mean_, self.y_std_ = mean, std
        return ((y - mean) / std).astype(np.float32).reshape(-1, 1), 1

    def _loss_fn(self, torch):
        return torch.nn.MSELoss()

    def predict(self, X):
        """Predicted target values, shape (n_samples,)."""
        check_is_fitted(self)
        out = self._forward(X)[:, 0].astype(np.float64)
        return out * self.y_std_ + self.y_mean_
