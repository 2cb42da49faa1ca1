"""The chapters' text values (glue / {eval}) and the progress-bar switch."""

from __future__ import annotations

import pytest

from jijtutorial import pages


def test_glue_formats_numbers_and_rejects_bad_names():
    assert pages.glued_text(0.0063) == "0.0063"
    assert pages.glued_text(2.0, fmt=".3f") == "2.000"
    assert pages.glued_text(1728) == "1728"
    assert pages.glued_text("as is") == "as is"
    assert pages.glue("small", 0.0063) is None  # no output when a cell ends with it
    with pytest.raises(ValueError, match="must be an identifier"):
        pages.glue("not a name", 1.0)


@pytest.mark.parametrize(
    "name, kind", [("len", "builtin"), ("print", "builtin"), ("sum", "builtin"), ("class", "keyword"), ("match", "keyword")]
)
def test_glue_refuses_python_builtins_and_keywords(name, kind):
    """glue('len', 1.0) set len = '1.0' in the notebook: every later len() failed."""
    with pytest.raises(ValueError, match=f"glue name '{name}' is a Python {kind}"):
        pages.glue(name, 1.0)


@pytest.mark.parametrize("digits", [0, -2, 2.5, True, "3"])
def test_glue_refuses_digits_that_are_not_a_positive_integer(digits):
    with pytest.raises(ValueError, match="glue digits must be a positive whole number"):
        pages.glue("value_text", 1.234, digits=digits)


@pytest.fixture()
def shell():
    IPython = pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()
    assert IPython.get_ipython() is None


def test_glue_sets_the_kernel_variable_that_eval_reads(shell, capsys):
    pages.glue("tc_text", 12.3456, digits=3)
    assert shell.user_ns["tc_text"] == "12.3"
    pages.glue("tc_text", 13.0)  # glueing the same name again is fine
    assert shell.user_ns["tc_text"] == "13"
    pages.glue("sentence", "with $x^2$", markdown=True)
    assert shell.user_ns["sentence"].data == "with $x^2$"


def test_glue_refuses_to_overwrite_a_notebook_variable(shell):
    shell.user_ns["n_tasks"] = 40  # the chapter's own variable
    with pytest.raises(ValueError, match=r"'n_tasks' is also a variable of this notebook.*'n_tasks_text'"):
        pages.glue("n_tasks", 40)
    assert shell.user_ns["n_tasks"] == 40


@pytest.mark.parametrize("value, expected", [(None, True), ("1", True), ("0", False), ("no", False), ("true", True)])
def test_progress_bars_follow_the_variable(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(pages.PROGRESS_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(pages.PROGRESS_VARIABLE, value)
    assert pages.progress_bars() is expected


def test_progress_bars_bad_value(monkeypatch):
    monkeypatch.setenv(pages.PROGRESS_VARIABLE, "sometimes")
    with pytest.raises(ValueError, match="JIJTUTORIAL_PROGRESS must be 0 or 1"):
        pages.progress_bars()


def test_glue_writes_exactly_what_myst_nb_glue_writes(shell):
    """The book reads glued values the way myst-nb writes them; pages.glue writes them without importing it."""
    myst_glue = pytest.importorskip("myst_nb").glue
    from IPython.display import Markdown
    from IPython.utils.capture import capture_output

    with capture_output() as ours:
        pages.glue("x_text", "a $b^2$ sentence", markdown=True)
    with capture_output() as theirs:
        myst_glue("x_text", Markdown("a $b^2$ sentence"), display=False)
    assert len(ours.outputs) == 1
    assert [(o.data, o.metadata) for o in ours.outputs] == [(o.data, o.metadata) for o in theirs.outputs]
