"""A trained skorch net as plain data (numpy weights), and the net rebuilt from it.

The state that :mod:`skops.io` stores of a sequence member (its ``__getstate__``) holds,
instead of the skorch net (torch modules, an optimizer, callbacks holding functions),
the module's weights as numpy arrays, the module's and criterion's constructor
arguments and skorch's history as lists and dicts. Loading rebuilds a net around the
same weights (:func:`rebuild_net`), so that ``transform`` gives identical output.
Pickles (joblib) keep the whole net instead (see ``GRUSequenceAutoencoder``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["NET_KEYS", "plain", "plain_net", "rebuild_net"]

#: The state entries of a net as plain data.
NET_KEYS = ("_net_weights", "_net_module_params", "_net_criterion_params", "_net_history")


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python numbers, tuples as lists, dict keys as str."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def plain_net(net: Any) -> dict[str, Any]:
    """The entries of :data:`NET_KEYS` for a trained (released) net."""
    weights = {}
    for name, tensor in net.module_.state_dict().items():
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
            tensor = tensor.float()
        weights[name] = tensor.detach().cpu().numpy().copy()
    return {
        "_net_weights": weights,
        "_net_module_params": plain(net.get_params_for("module")),
        "_net_criterion_params": plain(net.get_params_for("criterion")),
        "_net_history": plain(list(net.history)),
    }


def rebuild_net(est: Any, module: type, criterion: type, state: dict[str, Any]) -> Any:
    """A CPU net around the weights of ``state`` (:func:`plain_net`'s entries).

    Its module is built from the stored arguments and loaded with the weights (in eval
    mode); the history is skorch's of the training. The fitted callbacks are not
    stored: the net has skorch's default ones. Torch's global random state is left as
    it was (building the module draws initial weights).
    """
    from skorch.history import History

    from ._net import SelfSupervisedNet, release_net

    net = SelfSupervisedNet(
        module=module,
        **{f"module__{k}": v for k, v in state["_net_module_params"].items()},
        criterion=criterion,
        **{f"criterion__{k}": v for k, v in state["_net_criterion_params"].items()},
        optimizer=torch.optim.Adam,
        lr=est.lr,
        max_epochs=est.max_epochs,
        batch_size=est.batch_size,
        train_split=None,
        device="cpu",
        verbose=0,
    )
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    weights = {k: torch.from_numpy(np.array(v)) for k, v in state["_net_weights"].items()}
    net.module_.load_state_dict(weights)
    net.history = History(state["_net_history"])
    release_net(net)
    return net
