"""GRUSequenceAutoencoder: training/transform throughput, memory, reconstruction, scores.

Run: ``python benchmarks/bench_gru.py [--users 100000] [--device cpu]``

On ``make_events(n_users=--users)``, split in time as the challenge is (tasks on the
relevant clients, models fitted on the input period of all users but a held-out 5%):

1. **Throughput.** Real (non-pad) tokens per second of ``fit`` (all epochs, their
   validation passes included) and of ``transform``, next to this machine's kernel
   limit measured in the same run: a bare ``torch.nn.GRU`` encoder + decoder of the
   same sizes, forward + backward, on dense batches (every position real) of the
   same shapes as the model's batches; for ``transform``, the bare encoder forward.
   Also the same ratio against the *whole* model (embeddings, GRUs, heads, loss,
   Adam step) run on the same dense batches, which isolates our overhead (padding,
   batching, skorch) from the cost of the model itself. The fit and the kernel limit
   are timed minutes apart, and this machine's speed drifts by tens of percent,
   so the bench also times our training step (without skorch) on real padded
   batches alternately with the bare GRUs on the same shapes, batch by batch
   ("train ratio, interleaved"). Target (issue "GRU autoencoder"): training >= 0.6x
   and transform >= 0.6x of the kernel limit.
2. **Memory** (peak RSS growth) and wall time per epoch.
3. **Reconstruction accuracy** per field on the held-out users, next to always
   predicting the most frequent token: a model that learned nothing is visible.
4. **Quality**: ``protocol="fast"`` scores of the two paper variants (``day_event_type``
   and ``week_all``) next to EventCountEmbedder and random; the autoencoder must
   beat random clearly on every task and its concatenation with EventCountEmbedder
   must beat EventCountEmbedder alone on the total.
5. **The same totals against the fast protocol's L2 strength** ``C`` (``--c-sweep``):
   whether a concatenation gains once each embedding is regularised as it needs,
   i.e. whether the autoencoder carries information the counts lack.
6. **Two controls of the concatenation**: EventCountEmbedder + random Gaussian columns
   as many as the autoencoder's (what a block with no information at all does to the
   total under the fixed ``C``), and EventCountEmbedder + the autoencoder's latent
   reduced by a PCA fitted on the training users (``--pca``, as the paper reduces its
   512-dim model), which adds fewer columns.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

from sklearn_ubp import EventCountEmbedder, EventView, GRUSequenceAutoencoder
from sklearn_ubp._sequences import length_batches, padding_waste
from sklearn_ubp._torch import GRADIENT_CLIP, INFERENCE_BATCH, INFERENCE_TOKENS, ReconstructionLoss
from sklearn_ubp.evaluation import evaluate, random_embeddings
from sklearn_ubp.evaluation._protocol import FAST_OPTIONS

from _common import gib, measure
from bench_classic import load_split

VARIANTS = {
    "GRU-AE day_event_type": {"fields": "day_event_type"},
    "GRU-AE week_all": {"fields": "week_all"},
}


def _time_dense(fn, shapes: list[tuple[int, int]], budget_s: float) -> float:
    """Tokens per second of ``fn(B, T)`` over ``shapes`` (B x T real tokens each)."""
    tokens, seconds = 0, 0.0
    for b, t in shapes:
        t0 = time.perf_counter()
        fn(b, t)
        seconds += time.perf_counter() - t0
        tokens += b * t
        if seconds > budget_s:
            break
    return tokens / seconds


def kernel_limits(gru: GRUSequenceAutoencoder, seqs, seed: int, budget_s: float) -> dict:
    """Dense, padding-free throughput of bare GRUs and of the whole model."""
    module = gru.module_
    in_dim = module.encoder.layers[0].input_size
    hidden, layers = gru.hidden_size, gru.n_layers
    rng = np.random.default_rng(seed)
    train_shapes = [
        (len(b), int(seqs.lengths[b].max()))
        for b in length_batches(seqs.lengths, gru.batch_size, rng)
    ]
    infer_shapes = [
        (len(b), int(seqs.lengths[b].max()))
        for b in length_batches(seqs.lengths, INFERENCE_BATCH, max_tokens=INFERENCE_TOKENS)
    ]
    infer_shapes = [infer_shapes[i] for i in rng.permutation(len(infer_shapes))]
    torch.manual_seed(seed)
    enc = torch.nn.GRU(in_dim, hidden, layers, batch_first=True)
    dec = torch.nn.GRU(in_dim, hidden, layers, batch_first=True)

    def bare_train(b: int, t: int) -> None:
        x = torch.randn(b, t, in_dim)
        _, h = enc(x)
        out, _ = dec(x, h)
        out.sum().backward()

    def bare_infer(b: int, t: int) -> None:
        with torch.inference_mode():
            enc(torch.randn(b, t, in_dim))

    copy = type(module)(**gru._module_params())
    copy.load_state_dict(module.state_dict())
    crit = ReconstructionLoss(reconstruct=gru._module_params()["reconstruct"], numeric=False)
    opt = torch.optim.Adam(copy.parameters(), lr=gru.lr)
    copy.train()

    rows = seqs.tokens

    def train_step(tokens: torch.Tensor, lengths: torch.Tensor) -> None:
        # one step of fit's training loop, without skorch
        opt.zero_grad()
        crit(copy(tokens, lengths)).backward()
        torch.nn.utils.clip_grad_norm_(copy.parameters(), GRADIENT_CLIP)
        opt.step()

    def whole_model(b: int, t: int) -> None:
        # real token rows (with their pattern of fields that do not apply), all dense
        tokens = torch.from_numpy(rows[rng.integers(0, len(rows), (b, t))].astype(np.int64))
        train_step(tokens, torch.full((b,), t))

    def interleaved() -> float:
        # Drift-resistant cross-check: one training step of ours (module, loss, gradient
        # clipping as in fit, Adam) on a real padded batch, then the bare GRUs on a
        # dense batch of the same shape, alternately, so that a machine whose speed
        # drifts during the run slows both alike. Ratio of real tokens per second of
        # ours to all tokens per second of the bare GRUs.
        ours_s = bare_s = 0.0
        real_tokens = dense_tokens = 0
        for users in length_batches(seqs.lengths, gru.batch_size, rng):
            tokens, lengths = (torch.from_numpy(a) for a in seqs.padded(users))
            t0 = time.perf_counter()
            train_step(tokens, lengths)
            t1 = time.perf_counter()
            bare_train(*tokens.shape[:2])
            t2 = time.perf_counter()
            ours_s, bare_s = ours_s + t1 - t0, bare_s + t2 - t1
            real_tokens += int(lengths.sum())
            dense_tokens += tokens.shape[0] * tokens.shape[1]
            if ours_s + bare_s > budget_s:
                break
        return (real_tokens / ours_s) / (dense_tokens / bare_s)

    return {
        "train_bare": _time_dense(bare_train, train_shapes, budget_s),
        "train_model": _time_dense(whole_model, train_shapes, budget_s),
        "train_interleaved": interleaved(),
        "infer_bare": _time_dense(bare_infer, infer_shapes, budget_s / 2),
        "train_waste": padding_waste(seqs.lengths, length_batches(seqs.lengths, gru.batch_size)),
        "infer_waste": padding_waste(
            seqs.lengths, length_batches(seqs.lengths, INFERENCE_BATCH, max_tokens=INFERENCE_TOKENS)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--limit-seconds", type=float, default=20.0)
    parser.add_argument(
        "--c-sweep",
        type=float,
        nargs="*",
        default=[0.001, 0.003, 0.01, 0.03],
        help="also score ECE and ECE + each variant at these C (none: skip)",
    )
    parser.add_argument(
        "--pca",
        type=int,
        default=16,
        help="also score ECE + each variant's latent reduced to this many PCA components",
    )
    args = parser.parse_args()

    data, tasks, train = load_split(args.users, args.seed)
    held = np.random.default_rng(args.seed).random(len(train)) < 0.05
    fit_frame, held_frame = train[~held], train[held]
    print(
        f"make_events(n_users={args.users:,}): {EventView(data.events).n_events:,} events; "
        f"fit on the input period of {len(fit_frame):,} users "
        f"({EventView(fit_frame).n_events:,} events), {held.sum():,} held out; tasks on "
        f"{len(tasks.X):,} relevant clients; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
    )

    embeddings = {
        "random": random_embeddings(tasks.X, random_state=args.seed),
        "EventCountEmbedder": EventCountEmbedder().fit(train).transform(tasks.X),
    }
    speed_rows, recon_rows = [], []
    for name in args.variants:
        params = {**VARIANTS[name], "max_epochs": args.max_epochs, "device": args.device}
        gru = GRUSequenceAutoencoder(random_state=args.seed, **params)
        _, fit_s, fit_mem = measure(lambda gru=gru: gru.fit(fit_frame))
        seqs = gru._sequences(EventView(fit_frame))
        n_valid = int(round(gru.validation_fraction * len(seqs)))
        real = int(seqs.lengths.sum())
        epochs = len(gru.history_)
        train_tps = real * epochs / sum(h["dur"] for h in gru.history_)
        emb, tr_s, tr_mem = measure(lambda gru=gru: gru.transform(fit_frame))
        infer_tps = real / tr_s
        limits = kernel_limits(gru, seqs, args.seed, args.limit_seconds)
        speed_rows.append(
            {
                "model": name,
                "params (M)": sum(p.numel() for p in gru.module_.parameters()) / 1e6,
                "epochs (best)": f"{epochs} ({gru.best_epoch_})",
                "s/epoch": np.mean([h["dur"] for h in gru.history_]),
                "fit s": fit_s,
                "fit peak": gib(fit_mem),
                "train tok/s": train_tps,
                "bare GRU limit": limits["train_bare"],
                "train ratio": train_tps / limits["train_bare"],
                "vs whole model dense": train_tps / limits["train_model"],
                "train ratio, interleaved": limits["train_interleaved"],
                "transform s": tr_s,
                "transform peak": gib(tr_mem),
                "infer tok/s": infer_tps,
                "bare encoder limit": limits["infer_bare"],
                "transform ratio": infer_tps / limits["infer_bare"],
                "pad waste train/infer": f"{limits['train_waste']:.1%}/{limits['infer_waste']:.1%}",
            }
        )
        acc = gru.reconstruction_accuracy(held_frame)
        base = gru.majority_accuracy(held_frame)
        for field in acc:
            recon_rows.append(
                {"model": name, "field": field, "accuracy": acc[field], "majority": base[field]}
            )
        embeddings[name] = gru.transform(tasks.X)
        embeddings[f"ECE + {name}"] = np.hstack(
            [embeddings["EventCountEmbedder"], embeddings[name]]
        )
        if args.pca:
            # the PCA that n_components=args.pca would fit (on the training users' latent),
            # without a second training run
            pca = PCA(args.pca, random_state=args.seed).fit(emb)
            embeddings[f"ECE + {name} PCA-{args.pca}"] = np.hstack(
                [embeddings["EventCountEmbedder"], pca.transform(embeddings[name])]
            )
        noise = f"ECE + random ({gru.hidden_size})"
        if noise not in embeddings:
            embeddings[noise] = np.hstack(
                [
                    embeddings["EventCountEmbedder"],
                    random_embeddings(tasks.X, gru.hidden_size, random_state=args.seed + 1),
                ]
            )
        print(
            f"  {name}: {epochs} epochs in {fit_s:.0f} s (train split {len(seqs) - n_valid:,} "
            f"users, {real:,} real tokens); history {[round(h['valid_loss'], 3) for h in gru.history_]}",
            flush=True,
        )

    pd.set_option("display.width", 250)
    print("\n## Throughput (real tokens/s) and memory")
    print(
        pd.DataFrame(speed_rows).set_index("model").T.to_string(float_format=lambda v: f"{v:,.3g}")
    )
    print("\n## Reconstruction accuracy on held-out users (teacher forcing, real events only)")
    print(pd.DataFrame(recon_rows).pivot(index="field", columns="model").round(3).to_string())

    table = {}
    for name, emb in embeddings.items():
        scores = evaluate(emb, tasks, protocol="fast", random_state=args.seed)
        table[name] = scores[scores["metric"] == "score"].set_index("task")["value"]
    result = pd.DataFrame(table).T
    print('\n## protocol="fast" scores (rows: embeddings)')
    print(result.round(4).to_string())
    per_task = result.drop(columns="total")
    ece_total = result.loc["EventCountEmbedder", "total"]
    for name in args.variants:
        margin = (per_task.loc[name] - per_task.loc["random"]).min()
        gain = result.loc[f"ECE + {name}", "total"] - ece_total
        width = embeddings[name].shape[1]
        noise = result.loc[f"ECE + random ({width})", "total"] - ece_total
        line = (
            f"{name}: smallest margin over random {margin:+.4f} (beats random on every task by "
            f">= 0.01: {margin >= 0.01}); ECE + it minus ECE alone (total) {gain:+.4f}; "
            f"ECE + {width} random columns minus ECE {noise:+.4f}"
        )
        if args.pca:
            pca_gain = result.loc[f"ECE + {name} PCA-{args.pca}", "total"] - ece_total
            line += f"; ECE + its PCA-{args.pca} minus ECE {pca_gain:+.4f}"
        print(line)

    # The fast protocol fixes the L2 strength at C=0.01 for every embedding: with
    # ~2,000 training users, extra columns add variance at that C. The totals over a
    # range of C show whether a concatenation carries information the counts lack
    # (it gains where each is best regularised) or not (it never gains).
    if args.c_sweep:
        print("\n## Totals against the fast protocol's L2 strength C (default C=0.01)")
        sweep = {}
        for c in args.c_sweep:
            row = {}
            controls = [n for n in embeddings if n.startswith("ECE + random")]
            for name in ["EventCountEmbedder", *(f"ECE + {v}" for v in args.variants), *controls]:
                if c == FAST_OPTIONS["C"]:  # scored above
                    row[name] = float(result.loc[name, "total"])
                    continue
                scores = evaluate(
                    embeddings[name], tasks, protocol="fast", random_state=args.seed, C=c
                )
                row[name] = float(
                    scores.query("metric == 'score' and task == 'total'")["value"].iloc[0]
                )
            sweep[c] = row
        sweep = pd.DataFrame(sweep).T.rename_axis("C")
        print(sweep.round(4).to_string())
        for v in args.variants:
            best_ece = sweep["EventCountEmbedder"].max()
            best_cat = sweep[f"ECE + {v}"].max()
            print(
                f"ECE + {v}: best total over C {best_cat:.4f} vs ECE's best {best_ece:.4f} "
                f"({best_cat - best_ece:+.4f})"
            )


if __name__ == "__main__":
    main()
