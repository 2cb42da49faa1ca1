"""The ladder of protocols: no leakage at any level, exact closed-form leave-block-out, the runs and their reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toydata import FAR_ELEMENTS, LADDER_ELEMENTS, ladder_frame

from jijtutorial import cli
from jijtutorial.benchmark import (
    BASELINE,
    GP_MODEL,
    OUR_MODEL,
    PROTOCOLS,
    LadderResult,
    check_protocol,
    check_protocols,
    fold_breakdown,
    get_protocol,
    ladder_markdown,
    ladder_table,
    present_ladder,
    run_benchmark,
    run_ladder,
)
from jijtutorial.datasets import element_pair_labels
from jijtutorial.elements import z_of
from jijtutorial.kernels import DistinctGP, KroneckerGP, krr_path, linear_krr_path
from jijtutorial.protocols import BLOCK_KINDS, InnerBlocks, block_kind, geometry_labels
from jijtutorial.tables import format_number

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return ladder_frame()


# --------------------------------------------------------------------------------------------
# protocols and leakage
# --------------------------------------------------------------------------------------------
def test_protocol_names_alias_and_clear_errors():
    assert check_protocol("grouped") == "pairs" and check_protocol("element") == "element"
    assert check_protocols("all") == PROTOCOLS == ("study", "pairs", "element", "distance")
    assert check_protocols(["study", "grouped"]) == ("study", "grouped")
    for bad in ("random", "elements", "all-of-them"):
        with pytest.raises(
            ValueError, match=f"unknown protocol '{bad}'.*'pairs' \\(alias 'grouped'\\).*'element': an element never computed"
        ):
            check_protocol(bad)
    with pytest.raises(ValueError, match="unknown protocol 'leave-one-out'"):
        run_benchmark(pd.DataFrame(), "leave-one-out")


def _labels_of_rows(frame, rows, protocol):
    return get_protocol(protocol).held_out(frame, rows)


@pytest.mark.parametrize("protocol", ["pairs", "element", "distance"])
def test_no_held_out_label_in_any_training_fold_inner_folds_included(toy, protocol):
    splits = get_protocol(protocol).outer_splits(toy, n_splits=3, n_repeats=2, seed=1)
    assert splits
    for r, f, tr, te in splits:
        assert not set(tr) & set(te) and len(tr) + len(te) == len(toy)
        test_labels = _labels_of_rows(toy, te, protocol)
        if protocol == "element":  # the fold's element: the one every test row holds
            held = [e for e in test_labels if ((toy.element_i.iloc[te] == e) | (toy.element_j.iloc[te] == e)).all()]
            assert len(held) == 1 or len(te) == 1
            test_labels = set(held)
        assert not test_labels & _labels_of_rows(toy, tr, protocol), (r, f)
        # the inner selection inside the training fold leaves out the same kind of thing, exactly
        inner = get_protocol(protocol).inner_blocks(toy, tr)
        sub = toy.iloc[tr].reset_index(drop=True)
        blocks = [np.flatnonzero(inner == g) for g in np.unique(inner)] if protocol == "pairs" else list(inner)
        for B in blocks:
            rest = np.setdiff1d(np.arange(len(sub)), B)
            if protocol == "element":
                # the block is every training row holding its element, and no other training row holds it
                e = inner.labels[[k for k, b in enumerate(inner) if b is B][0]]
                holds = (sub.element_i == e) | (sub.element_j == e)
                assert np.array_equal(np.flatnonzero(holds), np.sort(B))
                assert not test_labels & {e}
            else:
                assert not _labels_of_rows(sub, B, protocol) & _labels_of_rows(sub, rest, protocol)
        if protocol != "pairs":
            assert getattr(inner, "kind", None) == protocol


def test_element_protocol_one_fold_per_element_and_overlapping_inner_blocks(toy):
    # deterministic: one repeat whatever is asked
    splits = get_protocol("element").outer_splits(toy, n_splits=5, n_repeats=3)
    labels = get_protocol("element").fold_labels(toy)
    assert labels == sorted(LADDER_ELEMENTS, key=z_of)  # in order of atomic number
    assert len(splits) == len(LADDER_ELEMENTS) and {r for r, *_ in splits} == {0}
    for (_, _, tr, te), e in zip(splits, labels):
        t = toy.iloc[te]
        assert ((t.element_i == e) | (t.element_j == e)).all()
        assert not ((toy.element_i.iloc[tr] == e) | (toy.element_j.iloc[tr] == e)).any()
    # a pair A-B (A != B) is tested twice, once in each element's fold
    tested = np.bincount(np.concatenate([te for *_, te in splits]), minlength=len(toy))
    assert np.array_equal(tested, np.where(toy.element_i == toy.element_j, 1, 2))
    inner = get_protocol("element").inner_blocks(toy, splits[0][2])
    counts = np.bincount(np.concatenate(inner))
    assert counts.max() == 2 and isinstance(inner, InnerBlocks) and inner.kind == "element"


def test_distance_protocol_one_fold_per_geometry_far_shell_only_some_elements(toy):
    splits = get_protocol("distance").outer_splits(toy)
    labels = get_protocol("distance").fold_labels(toy)
    assert labels == ["same Bi layer, 4.38 Å", "across the vdW gap, 6.10 Å", "same Bi layer, 8.77 Å", "same Bi layer, 13.15 Å"]
    far = splits[-1]
    assert set(toy.iloc[far[3]].element_i) == set(FAR_ELEMENTS)
    assert set(toy.iloc[far[2]].geometry) == set(labels[:-1])


def test_pairs_protocol_is_the_grouped_protocol(toy):
    a = get_protocol("pairs").outer_splits(toy, 4, 2, 3)
    b = get_protocol("grouped").outer_splits(toy, 4, 2, 3)
    assert all(np.array_equal(x[2], y[2]) and np.array_equal(x[3], y[3]) for x, y in zip(a, b))
    tr = a[0][2]
    assert np.array_equal(get_protocol("pairs").inner_blocks(toy, tr), get_protocol("grouped").inner_blocks(toy, tr))


# --------------------------------------------------------------------------------------------
# closed-form leave-block-out against refitting
# --------------------------------------------------------------------------------------------
def _refit_block(K, y, alpha, R, keep_inputs, inv):
    """Residuals of rows R after refitting KRR (on rows) without the rows of R."""
    keep = np.setdiff1d(np.arange(len(y)), R)
    Kr = K[np.ix_(inv, inv)]
    c = np.linalg.solve(Kr[np.ix_(keep, keep)] + alpha * np.eye(len(keep)), y[keep])
    return y[R] - Kr[np.ix_(R, keep)] @ c


@pytest.mark.parametrize("solver", ["cholesky", "eigh"])
def test_overlapping_blocks_with_duplicated_inputs_equal_refitting(solver):
    rng = np.random.default_rng(5)
    m = 30
    X = rng.normal(size=(m, 3))
    K = np.exp(-np.abs(X[:, None] - X[None]).sum(-1) / 2)
    inv = np.r_[np.arange(m), rng.integers(0, m, 15)]  # 45 rows, 30 inputs (twins)
    y = rng.normal(size=len(inv))
    rows_of = [np.flatnonzero(inv == u) for u in range(m)]
    # whole-input blocks that overlap (an element's pairs), and one that splits a twin from its input
    blocks = InnerBlocks(
        [
            np.concatenate([rows_of[u] for u in range(0, 12)]),
            np.concatenate([rows_of[u] for u in range(8, 20)]),
            np.array([0, 1, 2, 44]),
            np.array([5]),
        ],
        "element",
        ["A", "B", "C", "D"],
    )
    path = krr_path(K, y, [1e-2, 0.3], blocks, solver, inverse=inv)
    assert np.array_equal(path.rows, np.concatenate(blocks))
    for a, alpha in enumerate((1e-2, 0.3)):
        ref = np.concatenate([_refit_block(K, y, alpha, B, None, inv) for B in blocks])
        np.testing.assert_allclose(path.residuals[a], ref, atol=1e-9)
    # the thin-SVD linear path too
    Xl = rng.normal(size=(len(y), 4))
    lin = linear_krr_path(Xl, y, [0.1], blocks)
    K_lin = Xl @ Xl.T
    ref = np.concatenate([_refit_block(K_lin, y, 0.1, B, None, np.arange(len(y))) for B in blocks])
    np.testing.assert_allclose(lin.residuals[0], ref, atol=1e-8)


def _gp_refit(C, y, R, KUT=None, kUU=None, noise_R=None):
    T = np.setdiff1d(np.arange(len(y)), R)
    KRT = C[np.ix_(R, T)] if KUT is None else KUT
    mu = KRT @ np.linalg.solve(C[np.ix_(T, T)], y[T])
    var = (np.diag(C[np.ix_(R, R)]) if kUU is None else kUU + noise_R) - np.einsum(
        "ij,ji->i", KRT, np.linalg.solve(C[np.ix_(T, T)], KRT.T)
    )
    return y[R] - mu, var


def test_gp_leave_block_out_with_a_re_described_block_equals_refitting():
    """With each input its own row, leaving out U and predicting it with another cross-kernel K'_UT is a refit."""
    rng = np.random.default_rng(6)
    m = 24
    X = rng.normal(size=(m, 2))
    K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1))
    y = rng.normal(size=m)
    w = rng.uniform(0.5, 2.0, m)
    gp = DistinctGP(K, y, np.arange(m), 0.1, w)
    C = K + np.diag(0.1 * w)
    blocks = [np.array([0, 3, 5]), np.array([3, 7, 8, 20]), np.array([11])]  # overlapping input blocks
    e, v, rows = gp.leave_block_out(blocks)
    ref = [_gp_refit(C, y, U) for U in blocks]
    np.testing.assert_allclose(e, np.concatenate([r[0] for r in ref]), atol=1e-10)
    np.testing.assert_allclose(v, np.concatenate([r[1] for r in ref]), atol=1e-10)
    cross = []
    for U in blocks:
        T = np.setdiff1d(np.arange(m), U)
        cross.append((0.7 * K[np.ix_(U, T)], 1.3 * np.diag(K)[U], w[U]))
    e, v, _ = gp.leave_block_out(blocks, cross=cross)
    ref = [_gp_refit(C, y, U, KUT, kUU, 0.1 * wU) for U, (KUT, kUU, wU) in zip(blocks, cross)]
    np.testing.assert_allclose(e, np.concatenate([r[0] for r in ref]), atol=1e-10)
    np.testing.assert_allclose(v, np.concatenate([r[1] for r in ref]), atol=1e-10)


def test_kronecker_gp_equals_the_dense_gp_on_a_complete_grid():
    rng = np.random.default_rng(7)
    n_p, n_g = 9, 4
    Xp, Xg = rng.normal(size=(n_p, 3)), rng.normal(size=(n_g, 1))
    Kp = np.exp(-((Xp[:, None] - Xp[None]) ** 2).sum(-1))
    Kg = np.exp(-np.abs(Xg[:, None] - Xg[None]).sum(-1))
    m = n_p * n_g
    u = 0.3 * rng.normal(size=m)
    twins = rng.integers(1, 3, n_p)  # 1 or 2 rows per pair, at every geometry
    inv = np.concatenate([np.full(twins[k // n_g], k) for k in range(m)])
    y = rng.normal(size=len(inv))
    w, wv = np.full(m, 0.8), rng.uniform(0.5, 2.0, m)
    dense = DistinctGP(np.kron(Kp, Kg) + np.outer(u, u), y, inv, 0.05, w, wv)
    kron = KroneckerGP(Kp, Kg, y, inv, 0.05, w, wv, u=u)
    np.testing.assert_allclose(kron.c, dense.c, atol=1e-10)
    for a, b in zip(kron.leave_one_row_out(), dense.leave_one_row_out()):
        np.testing.assert_allclose(a, b, atol=1e-10)
    blocks = [np.arange(g, m, n_g) for g in range(n_g)] + [np.arange(n_g), np.array([1, 6, 20])]
    for a, b in zip(kron.leave_block_out(blocks), dense.leave_block_out(blocks)):
        np.testing.assert_allclose(a, b, atol=1e-10)
    assert np.allclose(kron.log_marginal_amplitude(), dense.log_marginal_amplitude())
    k = int(np.flatnonzero(np.bincount(inv) == 2)[0])
    drop = np.flatnonzero(inv == k)[0]  # one row of a pair (A, B) at one geometry goes missing: no longer a grid
    with pytest.raises(ValueError, match="same number of rows at every geometry"):
        KroneckerGP(Kp, Kg, np.delete(y, drop), np.delete(inv, drop), 0.05, w, wv)


# --------------------------------------------------------------------------------------------
# runs and reports
# --------------------------------------------------------------------------------------------
LADDER_TOY_MODELS = ["CM-KRR-lap-rcut-4.0", OUR_MODEL, GP_MODEL, BASELINE]


@pytest.fixture(scope="module")
def ladder(toy):
    return run_ladder(toy, "all", LADDER_TOY_MODELS, n_splits=3, n_repeats=1, test_size=0.25, progress=False, n_jobs=2)


def test_the_ladder_runs_every_model_on_every_rung(ladder, toy, tmp_path):
    assert isinstance(ladder, LadderResult) and tuple(ladder.rungs) == PROTOCOLS
    wide = ladder_table(ladder)
    assert list(wide.index) == LADDER_TOY_MODELS
    assert wide.notna().all().all() and wide.columns.get_level_values("protocol").unique().tolist() == list(PROTOCOLS)
    el = ladder.rungs["element"]
    p = el.predictions[el.predictions["model"] == GP_MODEL]
    # pooled: every fold's test pairs concatenated, a pair of two elements counted twice
    assert len(p) == int((toy.element_i != toy.element_j).sum() * 2 + (toy.element_i == toy.element_j).sum())
    assert el.table.set_index("model").loc[GP_MODEL, "MAE"] == pytest.approx((p.J_pred - p.J).abs().mean())
    assert np.isnan(el.table["test_MAE"]).all() and el.config["n_test"] == 0  # no separate held-out set
    assert el.folds["label"].tolist()[: len(LADDER_ELEMENTS)] == get_protocol("element").fold_labels(toy)
    # the held-out set of study and pairs is still there
    assert ladder.rungs["study"].table["test_MAE"].notna().all()
    b = fold_breakdown(ladder.rungs["distance"])
    assert list(b["held out"]) == get_protocol("distance").fold_labels(toy) and list(b.columns[3:]) == LADDER_TOY_MODELS
    assert b.loc[b["held out"] == "same Bi layer, 13.15 Å", "pairs"].item() == len(FAR_ELEMENTS) ** 2
    # only PairGP has error bars; it is calibrated on every rung
    cal = ladder.calibration
    assert set(cal["model"]) == {GP_MODEL} and list(cal["protocol"]) == list(PROTOCOLS)
    assert cal[["within_1sigma", "within_2sigma", "within_J95"]].apply(lambda c: c.between(0, 1)).all().all()
    # one metric per table fits a page: a column per rung, the numbers of ladder_table
    mae = present_ladder(ladder, metric="MAE")
    assert list(mae.formatted.columns) == ["model"] + [f"{p} (meV)" for p in PROTOCOLS]
    assert mae.formatted.iloc[1, 1] == format_number(wide.loc[OUR_MODEL, ("MAE", "study")])
    r2 = present_ladder(ladder, metric="R2").formatted
    assert list(r2.columns) == ["model", *PROTOCOLS]
    assert r2.iloc[0, -1] == format_number(wide.iloc[0][("R2", "distance")], decimals=3)
    with pytest.raises(ValueError, match="metric must be"):
        present_ladder(ladder, metric="RMSE")
    text = ladder_markdown(ladder)
    for m in LADDER_TOY_MODELS:
        assert f"| {m} |" in text
    assert "Time of each rung" in text and "element" in text and "±1σ" in text
    files = {f.name for f in ladder.save(tmp_path / "out", plots=False)}
    assert {
        "ladder-toy.csv",
        "ladder-toy.md",
        "breakdown-toy-element.csv",
        "calibration-toy-distance.csv",
        "table-toy-pairs.csv",
    } <= files
    with pytest.raises(ValueError, match="no folds per element or geometry"):
        fold_breakdown(ladder.rungs["study"])


def test_worker_processes_give_the_run_of_threads(ladder, toy):
    proc = run_ladder(
        toy, "all", LADDER_TOY_MODELS, n_splits=3, n_repeats=1, test_size=0.25, progress=False, n_jobs=2, processes=True
    )
    for p in PROTOCOLS:
        a, b = ladder.rungs[p], proc.rungs[p]
        assert b.config["processes"] and not a.config["processes"]
        pd.testing.assert_frame_equal(a.predictions, b.predictions)
        pd.testing.assert_frame_equal(a.test_predictions, b.test_predictions)
        cols = ["model", "MAE", "R2", "test_MAE", "test_R2"]
        pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
        keep = [c for c in a.folds.columns if not c.startswith("t_")]
        pd.testing.assert_frame_equal(a.folds[keep], b.folds[keep])


def test_pairgp_and_the_stacked_prior_model_fit_pairgp_once_per_fold(toy, monkeypatch):
    import jijtutorial.benchmark._runner as runner

    made = []

    class Recording(runner.SharedFits):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(runner, "SharedFits", Recording)
    both = run_benchmark(
        toy, "study", [GP_MODEL, "PairGP+engine"], n_splits=3, n_repeats=1, test_size=0.25, progress=False, n_jobs=2
    )
    # 3 folds and the held-out task: each PairGP made once and used again by the stacked model
    assert (made[0].made, made[0].reused) == (4, 4) and len(made[0]) == 0  # and dropped after the protocol
    alone = run_benchmark(toy, "study", [GP_MODEL], n_splits=3, n_repeats=1, test_size=0.25, progress=False, n_jobs=1)
    pd.testing.assert_frame_equal(both.predictions[both.predictions.model == GP_MODEL].reset_index(drop=True), alone.predictions)


def test_grouped_alias_gives_the_same_run_under_its_own_name(toy):
    a = run_benchmark(toy, "grouped", [OUR_MODEL], n_splits=3, n_repeats=1, test_size=0.25, progress=False)
    b = run_benchmark(toy, "pairs", [OUR_MODEL], n_splits=3, n_repeats=1, test_size=0.25, progress=False)
    assert a.protocol == "grouped" and b.protocol == "pairs"
    cols = ["MAE", "R2", "test_MAE", "test_R2"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    assert list(a.predictions.columns) == ["model", "repeat", "row", "J", "J_pred"]  # as before the ladder


def test_the_command_line_runs_the_ladder(toy, tmp_path, capsys):
    csv = tmp_path / "model_jij.csv"
    toy[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_csv(csv, index=False)
    out = tmp_path / "res"
    code = cli.main(
        [
            "benchmark",
            "--dataset",
            "model",
            "--data-path",
            str(csv),
            "--protocol",
            "all",
            "--folds",
            "3",
            "--repeats",
            "1",
            "--models",
            f"{OUR_MODEL},{GP_MODEL},{BASELINE}",
            "--out",
            str(out),
            "--no-progress",
            "--no-plots",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "the ladder" in printed and "Time of each rung" in printed and "per held-out element" in printed
    assert (out / "ladder-model.md").is_file() and (out / "table-model-element.csv").is_file()
    with pytest.raises(SystemExit):
        cli.main(["benchmark", "--protocol", "elements", "--out", str(out)])
    assert "invalid choice: 'elements'" in capsys.readouterr().err


@pytest.mark.parametrize("protocol", ["pairs", "element", "distance"])
def test_no_leakage_on_the_jukkr_table(jukkr, protocol):
    splits = get_protocol(protocol).outer_splits(jukkr, 5, 3, 0)
    if protocol == "element":
        assert len(splits) == 20
    if protocol == "distance":
        assert len(splits) == 10 and sorted(len(te) for *_, te in splits)[:6] == [21] * 5 + [24]
    rung = get_protocol(protocol)
    for (_, _, tr, te), label in zip(splits, rung.fold_labels(jukkr) if protocol != "pairs" else [None] * 15):
        held = {label} if protocol == "element" else get_protocol(protocol).held_out(jukkr, te)
        assert not held & get_protocol(protocol).held_out(jukkr, tr)
        inner = get_protocol(protocol).inner_blocks(jukkr, tr)
        sub = jukkr.iloc[tr].reset_index(drop=True)
        blocks = [np.flatnonzero(inner == g) for g in np.unique(inner)] if protocol == "pairs" else list(inner)
        covered = np.zeros(len(sub), int)
        lab = element_pair_labels(sub) if protocol == "pairs" else geometry_labels(sub)
        for B in blocks:
            covered[B] += 1
            if protocol != "element":  # what the block holds is nowhere else in the training fold
                rest = np.ones(len(sub), bool)
                rest[B] = False
                assert not np.isin(lab[B], lab[rest]).any()
        # every training row is scored by the inner selection: once, or twice (a pair of two elements)
        assert covered.min() >= 1 and covered.max() == (2 if protocol == "element" else 1)


def test_protocols_are_records_the_models_read():
    """One record per rung; PairGP's selection is a block kind, and an unknown kind is an error, never a default."""
    from jijtutorial.kernels import PairGP

    assert [p.blocks for p in (get_protocol(n) for n in PROTOCOLS)] == list(BLOCK_KINDS)
    assert get_protocol("grouped") is get_protocol("pairs") and get_protocol("element").leave_one_out
    assert block_kind(None) == "rows" and block_kind(np.zeros(3)) == "pairs"
    with pytest.raises(ValueError, match="unknown kind 'groups'"):
        InnerBlocks([np.array([0])], "groups")
    toy = ladder_frame()
    y = toy["J"].to_numpy()
    blocks = get_protocol("distance").inner_blocks(toy)
    blocks.kind = "wavy"  # a record never makes this; a hand-built object might
    with pytest.raises(ValueError, match="unknown kind 'wavy'"):
        PairGP(alphas=(0.1,)).fit(toy, y, inner=blocks)
    with pytest.raises(ValueError, match="selection must be one of"):
        PairGP(selection="wavy").fit(toy, y)


def test_run_benchmark_returns_one_type_and_says_where_the_ladder_is(toy):
    from jijtutorial.benchmark import cached_benchmark

    with pytest.raises(ValueError, match="run_benchmark runs one protocol.*use run_ladder"):
        run_benchmark(toy, "all")
    with pytest.raises(ValueError, match="run_benchmark runs one protocol.*use run_ladder"):
        run_benchmark(toy, ["study", "pairs"])
    with pytest.raises(ValueError, match="cached_benchmark stores one protocol's run; for 'all' use cached_ladder"):
        cached_benchmark(toy, "all")
