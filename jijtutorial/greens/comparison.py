"""Engine against a reference table (JuKKR): per shell correlation, sign, scale, moments and DM direction.

Both frames are tidy (:func:`jijtutorial.datasets.tidy_frame` columns, or the raw frame of
:func:`.engine.exchange_table`): element_i, element_j, rx, ry, rz (Å), J, Dx, Dy, Dz (meV),
moment_i, moment_j (μB). Rows are matched on the two elements and the pair vector (to 0.01 Å),
so D vectors are compared component by component in the same frame. The reference is treated
as the truth; the engine's moments are predictions of the reference's in-pair moments.

Metrics per geometry (and for the groups 'complete shells' and 'far shells'):

* Pearson and Spearman r of J over all matched pairs;
* sign agreement: the fraction of pairs with |J_ref| > ``sign_threshold`` (0.1 meV) whose engine J
  has the same sign (an engine J of exactly 0 counts as a miss);
* scale: the median of |J_engine|/|J_ref| over those pairs;
* moment MAE (μB) over both impurities of every matched pair;
* D direction: the mean cosine between D_engine and D_ref where both |D| > ``d_threshold`` (meV).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The four shells that hold all 20 × 20 element pairs in the JuKKR table (Å).
COMPLETE_SHELLS = (4.38, 6.10, 7.51, 8.77)


def match_frames(engine: pd.DataFrame, reference: pd.DataFrame, tolerance: float = 0.01) -> pd.DataFrame:
    """Reference rows with the engine's J, D, moments on the same elements and vector (suffixes _ref, _eng)."""
    cols = ["J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]

    def keyed(frame):
        f = frame.copy()
        for c in ("rx", "ry", "rz"):
            f[f"_{c}"] = np.round(f[c].to_numpy(float) / tolerance).astype(int)
        return f

    ref, eng = keyed(reference), keyed(engine)
    key = ["element_i", "element_j", "_rx", "_ry", "_rz"]
    eng = eng.drop_duplicates(key)
    merged = ref.merge(eng[key + cols], on=key, suffixes=("_ref", "_eng"), how="inner")
    if merged.empty:
        raise ValueError("the engine and the reference share no (element_i, element_j, vector): nothing to compare.")
    merged["distance"] = np.linalg.norm(merged[["rx", "ry", "rz"]].to_numpy(float), axis=1)
    if "geometry" not in merged:
        merged["geometry"] = merged["distance"].map(lambda d: f"{d:.2f} Å")
    return merged.drop(columns=["_rx", "_ry", "_rz"])


def _metrics(g: pd.DataFrame, sign_threshold: float, d_threshold: float) -> dict:
    from scipy.stats import pearsonr, spearmanr

    x, y = g["J_ref"].to_numpy(float), g["J_eng"].to_numpy(float)
    ok = len(g) > 2 and x.std() > 0 and y.std() > 0
    strong = np.abs(x) > sign_threshold
    Dr, De = g[["Dx_ref", "Dy_ref", "Dz_ref"]].to_numpy(float), g[["Dx_eng", "Dy_eng", "Dz_eng"]].to_numpy(float)
    nr, ne = np.linalg.norm(Dr, axis=1), np.linalg.norm(De, axis=1)
    both = (nr > d_threshold) & (ne > d_threshold)
    cos = np.einsum("ij,ij->i", Dr[both], De[both]) / (nr[both] * ne[both]) if both.any() else np.array([])
    mom = np.concatenate([np.abs(g["moment_i_ref"] - g["moment_i_eng"]), np.abs(g["moment_j_ref"] - g["moment_j_eng"])])
    return {
        "pairs": len(g),
        "Pearson r": float(pearsonr(x, y)[0]) if ok else np.nan,
        "Spearman r": float(spearmanr(x, y)[0]) if ok else np.nan,
        "|J_ref| > thr": int(strong.sum()),
        "same sign": float(np.mean(np.sign(y[strong]) == np.sign(x[strong]))) if strong.any() else np.nan,
        "median |J_eng|/|J_ref|": float(np.median(np.abs(y[strong]) / np.abs(x[strong]))) if strong.any() else np.nan,
        "moment MAE (μB)": float(np.mean(mom)),
        "D pairs": int(both.sum()),
        "D cosine": float(np.mean(cos)) if len(cos) else np.nan,
    }


def shell_agreement(matched: pd.DataFrame, sign_threshold: float = 0.1, d_threshold: float = 0.05) -> pd.DataFrame:
    """One row per geometry (by distance), then 'complete shells', 'far shells' and 'all' (see module docstring)."""
    rows = []
    order = matched.groupby("geometry")["distance"].first().sort_values()
    for geometry in order.index:
        rows.append({"geometry": geometry, **_metrics(matched[matched.geometry == geometry], sign_threshold, d_threshold)})
    complete = np.isin(np.round(matched["distance"], 2), COMPLETE_SHELLS)
    for name, sel in (("complete shells", complete), ("far shells", ~complete), ("all", np.ones(len(matched), bool))):
        if sel.any():
            rows.append({"geometry": name, **_metrics(matched[sel], sign_threshold, d_threshold)})
    return pd.DataFrame(rows)


__all__ = ["COMPLETE_SHELLS", "match_frames", "shell_agreement"]
