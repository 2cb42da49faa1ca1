"""From finished folds to a run's tables: the scores of each fold, and each protocol's result.

A fold task returns its test rows, predictions (with σ for models with error bars) and a row of
fold scores (:func:`_fold_scores`); :func:`_collect` (target J) or :func:`_collect_vector` (target D)
turns the tasks of one protocol into a :class:`~jijtutorial.benchmark.BenchmarkResult`: out-of-fold
predictions, the table (means over folds, or pooled over the folds of a leave-one-out rung), the
held-out test scores and the calibration of the error bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import STUDY_RESULTS
from ._results import BenchmarkResult
from ._setup import Setup, r2_score


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float, np.number)) else f"{k}={v}" for k, v in params.items())


def _calibration_rows(name, protocol, p: pd.DataFrame, col: str = "J") -> dict:
    from ._calibration import coverage

    y, pred, sd, h95 = p[col], p[f"{col}_pred"], p[f"{col}_std"], p[f"{col}_95"]
    c = coverage(y, pred, sd)
    inside95 = float(np.mean(np.abs(y - pred) <= h95))
    return {
        "model": name,
        "protocol": protocol,
        "within_1sigma": c[1.0],
        "within_2sigma": c[2.0],
        f"within_{col}95": inside95,
        "mean_sigma": float(sd.mean()),
        f"mean_{col}95": float(h95.mean()),
        "MAE": float(np.mean(np.abs(y - pred))),
        "n": len(p),
    }


def _fold_scores(target, y_ref, y_raw, p) -> dict:
    """Scores of one fold's predictions: a scalar target (J): MAE (meV) and R²; a vector (D): :func:`vector_scores`."""
    if not target.is_vector:
        return dict(
            MAE=float(np.mean(np.abs(p - y_ref))) if len(y_ref) else np.nan, R2=r2_score(y_ref, p) if len(y_ref) else np.nan
        )
    return vector_scores(y_ref, y_raw, p, target.columns)


def vector_scores(y_ref, y_raw, p, columns=("Dx", "Dy", "Dz")) -> dict:
    """Scores of predicted vectors ``p`` (meV, (m, k)), e.g. D.

    ``MAE``: mean |p - D| against the reference ``y_ref`` (D: the symmetrised D); ``MAE_raw``: against
    the raw data ``y_raw``; ``R2``: 1 - sum |p - D|² / sum |D - mean D|² (the vector pooled);
    ``R2_<column>`` (``R2_Dx`` ...): per component, against the reference.
    """
    if not len(y_ref):
        return dict(MAE=np.nan, MAE_raw=np.nan, R2=np.nan, **{f"R2_{c}": np.nan for c in columns})
    y_ref, y_raw, p = (np.asarray(a, float).reshape(-1, len(columns)) for a in (y_ref, y_raw, p))
    ss = float(np.sum((y_ref - y_ref.mean(axis=0)) ** 2))
    out = dict(
        MAE=float(np.mean(np.linalg.norm(p - y_ref, axis=1))),
        MAE_raw=float(np.mean(np.linalg.norm(p - y_raw, axis=1))),
        R2=1.0 - float(np.sum((p - y_ref) ** 2)) / ss if ss > 0 else np.nan,
    )
    for k, c in enumerate(columns):
        out[f"R2_{c}"] = r2_score(y_ref[:, k], p[:, k])
    return out


def _collect_vector(run: Setup, specs, done, frame, y_raw, prep_seconds, dev, test, seconds, y_ref, target) -> BenchmarkResult:
    """One protocol's :class:`BenchmarkResult` for the target D (vectors): predictions with σ per component.

    ``predictions``: model, repeat, (fold, label for element/distance), row, Dx, Dy, Dz (the symmetrised
    D), Dx_raw ... (the data's), Dx_pred ..., and Dx_std ... for models with error bars. ``table``: per
    model MAE, MAE_std, MAE_raw, R2, R2_Dx, R2_Dy, R2_Dz (means over folds for study/pairs, pooled over
    the folds' test pairs for element/distance), coverage of ±1σ and ±2σ pooled over the three
    components with σ > 0 (a component the symmetry fixes has σ = 0 and is known exactly; NaN without
    error bars), the held-out test MAE and R². ``calibration``: coverage per component, the mean σ
    and the fraction of components fixed by symmetry.
    """
    comps = target.columns  # ("Dx", "Dy", "Dz")
    loo = run.rung.leave_one_out
    rows, fold_rows, preds, test_preds, calib = [], [], [], [], []

    def block(model, te, p, sd, extra):
        d = {"model": model, **extra, "row": te}
        for k, c in enumerate(comps):
            d[c] = y_ref[te, k]
        for k, c in enumerate(comps):
            d[f"{c}_raw"] = y_raw[te, k]
        for k, c in enumerate(comps):
            d[f"{c}_pred"] = p[:, k]
        if sd is not None:
            for k, c in enumerate(comps):
                d[f"{c}_std"] = sd[:, k]
        return pd.DataFrame(d)

    for spec in specs:
        mine = [d for d in done if d[4]["model"] == spec.name]
        model_rows, long = [], []
        test_scores = dict(MAE=np.nan, R2=np.nan)
        test_params = ""
        for te, p, sd, _, row in mine:
            p = np.asarray(p, float).reshape(-1, 3)
            sd = None if sd is None else np.asarray(sd, float).reshape(-1, 3)
            if row["repeat"] == "holdout":
                test_preds.append(block(spec.name, te, p, sd, {}))
                test_scores, test_params = {k: row[k] for k in ("MAE", "R2")}, row["params"]
                continue
            model_rows.append(row)
            extra = {"repeat": row["repeat"]}
            if loo:
                extra.update(fold=row["fold"], label=row["label"])
            long.append(block(spec.name, te, p, sd, extra))
        fold_rows.extend(model_rows)
        mp = pd.concat(long, ignore_index=True)
        if not loo:
            mp = mp.sort_values(["repeat", "row"], kind="stable").reset_index(drop=True)
        preds.append(mp)
        fr = pd.DataFrame(model_rows)
        ref = mp[list(comps)].to_numpy()
        pred = mp[[f"{c}_pred" for c in comps]].to_numpy()
        if loo:
            scores = vector_scores(ref, mp[[f"{c}_raw" for c in comps]].to_numpy(), pred, comps)
        else:
            scores = {k: float(fr[k].mean()) for k in ("MAE", "MAE_raw", "R2", *(f"R2_{c}" for c in comps))}
        cover = {"within_1sigma": np.nan, "within_2sigma": np.nan}
        if f"{comps[0]}_std" in mp and mp[[f"{c}_std" for c in comps]].notna().all().all():
            sd = mp[[f"{c}_std" for c in comps]].to_numpy()
            err = np.abs(pred - ref)
            free = sd > 0  # components the symmetry fixes (σ = 0, exactly known) say nothing about σ
            cover = {"within_1sigma": float(np.mean((err <= sd)[free])), "within_2sigma": float(np.mean((err <= 2 * sd)[free]))}
            c = {"model": spec.name, "protocol": run.protocol, **cover}
            for k, comp in enumerate(comps):
                c[f"within_1sigma_{comp}"] = float(np.mean((err[:, k] <= sd[:, k])[free[:, k]]))
                c[f"within_2sigma_{comp}"] = float(np.mean((err[:, k] <= 2 * sd[:, k])[free[:, k]]))
            c.update(mean_sigma=float(sd[free].mean()), fixed_by_symmetry=float(np.mean(~free)), MAE=scores["MAE"], n=len(mp))
            calib.append(c)
        rows.append(
            {
                "model": spec.name,
                "protocol": run.protocol,
                "t_train": fr["t_train"].mean(),
                "t_test": fr["t_test"].mean(),
                "t_prep": prep_seconds[spec.name],
                **scores,
                "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan,
                **cover,
                "test_MAE": test_scores["MAE"],
                "test_R2": test_scores["R2"],
                "test_params": test_params,
            }
        )
    return BenchmarkResult(
        protocol=run.protocol,
        dataset=run.name,
        table=pd.DataFrame(rows),
        folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame,
        config={},
        seconds=seconds,
        calibration=pd.DataFrame(calib),
        target=target.name,
    )


def _collect(run: Setup, specs, done, frame, y_all, prep_seconds, dev, test, seconds, y_ref=None, target=None) -> BenchmarkResult:
    """One protocol's :class:`BenchmarkResult` from the finished tasks of all models (a scalar target: J)."""
    col = "J" if target is None else target.columns[0]
    Y, P, S, H = col, f"{col}_pred", f"{col}_std", f"{col}_95"
    rows, fold_rows, preds, test_preds, calib = [], [], [], [], []
    loo = run.rung.leave_one_out
    with_std = any(sd is not None for _, _, sd, _, _ in done)
    for spec in specs:
        mine = [d for d in done if d[4]["model"] == spec.name]
        model_rows, oof, long = [], {}, []
        test_mae = test_r2 = np.nan
        test_params = ""
        for te, p, sd, half95, row in mine:
            if row["repeat"] == "holdout":
                tp = pd.DataFrame({"model": spec.name, "row": te, Y: y_all[te], P: p})
                if with_std:
                    tp[S] = np.nan if sd is None else sd
                    tp[H] = np.nan if half95 is None else half95
                test_preds.append(tp)
                test_mae, test_r2, test_params = row["MAE"], row["R2"], row["params"]
                continue
            model_rows.append(row)
            if loo:
                d = {"model": spec.name, "repeat": 0, "fold": row["fold"], "label": row["label"], "row": te, Y: y_all[te], P: p}
                if with_std:
                    d[S] = np.nan if sd is None else sd
                    d[H] = np.nan if half95 is None else half95
                long.append(pd.DataFrame(d))
            else:
                arrs = oof.setdefault(row["repeat"], [np.full(len(frame), np.nan) for _ in range(3)])
                arrs[0][te] = p
                if sd is not None:
                    arrs[1][te] = sd
                    arrs[2][te] = half95
        fold_rows.extend(model_rows)
        if loo:
            mp = pd.concat(long, ignore_index=True)
            preds.append(mp)
        else:
            parts = []
            for r in sorted(oof):
                d = {"model": spec.name, "repeat": r, "row": np.arange(len(frame)), Y: y_all, P: oof[r][0]}
                if with_std:
                    d[S], d[H] = oof[r][1], oof[r][2]
                parts.append(pd.DataFrame(d))
            mp = pd.concat(parts, ignore_index=True)
            preds.append(mp)
        fr = pd.DataFrame(model_rows)
        if loo:  # pooled over the test pairs of all folds
            mae, r2 = float(np.mean(np.abs(mp[P] - mp[Y]))), r2_score(mp[Y].to_numpy(), mp[P].to_numpy())
        else:
            mae, r2 = fr["MAE"].mean(), fr["R2"].mean()
        if with_std and S in mp and mp[S].notna().all():
            calib.append(_calibration_rows(spec.name, run.protocol, mp, col))
        study = STUDY_RESULTS.get(spec.name)
        rows.append(
            {
                "model": spec.name,
                "protocol": run.protocol,
                "t_train": fr["t_train"].mean(),
                "t_test": fr["t_test"].mean(),
                "t_prep": prep_seconds[spec.name],
                "MAE": mae,
                "MAE_std": fr["MAE"].std(ddof=1) if len(fr) > 1 else np.nan,
                "R2": r2,
                "test_MAE": test_mae,
                "test_R2": test_r2,
                "test_params": test_params,
                **{
                    f"study_{k}": (getattr(study, k) if study else np.nan)
                    for k in ("t_train", "t_test", "MAE", "R2", "test_MAE", "test_R2")
                },
            }
        )
    return BenchmarkResult(
        protocol=run.protocol,
        dataset=run.name,
        table=pd.DataFrame(rows),
        folds=pd.DataFrame(fold_rows),
        predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
        test_predictions=pd.concat(test_preds, ignore_index=True) if test_preds else pd.DataFrame(),
        frame=frame,
        config={},
        seconds=seconds,
        calibration=pd.DataFrame(calib),
        target=target.name if target else "J",
    )
