"""The challenge's downstream network (``protocol="official"`` of :func:`evaluate`)."""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
from scipy.special import expit

from ._metrics import report, task_metrics

__all__ = ["run_official"]


@functools.cache
def _official_net_class() -> type:
    """The challenge's downstream network (built lazily so torch loads only when used)."""
    from torch import Tensor, nn

    class _Block(nn.Module):
        """``x + MLP(LayerNorm(x))`` with ``thin -> wide -> GELU -> thin``."""

        def __init__(self, thin: int, wide: int) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(thin)
            self.up = nn.Linear(thin, wide)
            self.act = nn.GELU()
            self.down = nn.Linear(wide, thin)

        def forward(self, x: Tensor) -> Tensor:
            return x + self.down(self.act(self.up(self.norm(x))))

    class OfficialNet(nn.Module):
        """Linear -> LayerNorm -> 3 residual blocks -> LayerNorm -> Linear."""

        def __init__(self, in_dim: int, out_dim: int, thin: int, wide: int) -> None:
            super().__init__()
            self.input = nn.Linear(in_dim, thin)
            self.input_norm = nn.LayerNorm(thin)
            self.blocks = nn.ModuleList([_Block(thin, wide) for _ in range(3)])
            self.output_norm = nn.LayerNorm(thin)
            self.output = nn.Linear(thin, out_dim)

        def forward(self, x: Tensor) -> Tensor:
            x = self.input_norm(self.input(x))
            for block in self.blocks:
                x = block(x)
            return self.output(self.output_norm(x))

    return OfficialNet


def run_official(
    X: np.ndarray,
    task: dict[str, Any],
    opts: dict[str, Any],
    device: str,
    random_state: int,
    verbose: bool,
) -> tuple[dict[str, float], int, list[dict[str, float]]]:
    """Train the official network; return the best epoch's metrics, that epoch, history."""
    import torch

    n = X.shape[0]
    y_train = task["y_train"].reshape(n, -1)
    n_out = y_train.shape[1]
    dev = torch.device(device)
    fork = (
        [dev.index if dev.index is not None else torch.cuda.current_device()]
        if dev.type == "cuda"
        else []
    )
    # The only randomness is the weight initialisation (no shuffling, no dropout). It is
    # done on the CPU, so CPU and CUDA runs start from the same weights, inside fork_rng
    # so that the caller's global RNG state is left as it was.
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(random_state)
        net = _official_net_class()(X.shape[1], n_out, opts["hidden_size"], opts["wide_size"])
    net = net.to(dev)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts["learning_rate"])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    Xd = torch.from_numpy(X).to(dev)
    Yd = torch.from_numpy(y_train.astype(np.float32)).to(dev)
    bs, ebs = opts["batch_size"], opts["eval_batch_size"]
    history: list[dict[str, float]] = []
    for epoch in range(1, opts["n_epochs"] + 1):
        start_time = time.perf_counter()
        net.train()
        for start in range(0, n, bs):  # no shuffling: the users in their given order
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xd[start : start + bs]), Yd[start : start + bs])
            loss.backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            logits = torch.cat([net(Xd[s : s + ebs]) for s in range(0, n, ebs)])
        logits_np = logits.double().cpu().numpy()
        if not np.isfinite(logits_np).all():
            raise ValueError(
                f"the downstream network diverged at epoch {epoch} (non-finite outputs); "
                "scale the embeddings (e.g. StandardScaler) or lower learning_rate"
            )
        probs = expit(logits_np)  # the official evaluation: p = sigmoid(logits)
        if task["kind"] == "binary":
            probs = probs[:, 0]
        metrics = task_metrics(task["kind"], task["y_test"], probs, task["popularity"])
        history.append(metrics)
        if verbose:
            report(f"{task['name']}: epoch {epoch}/{opts['n_epochs']}", metrics, start_time)
    best = int(np.argmax([m["score"] for m in history]))  # first best on ties
    return history[best], best + 1, history
