"""Launch buttons appear only when the repository URL is given, and a bad URL is refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

spec = importlib.util.spec_from_file_location("launch_buttons", Path(__file__).parents[1] / "book/_ext/launch_buttons.py")
launch_buttons = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch_buttons)


def _config():
    return SimpleNamespace(html_theme_options={"launch_buttons": {"thebe": False, "colab_url": ""}, "repository_url": ""})


def test_without_url_nothing_changes(monkeypatch):
    monkeypatch.delenv(launch_buttons.VARIABLE, raising=False)
    config = _config()
    launch_buttons._configure(None, config)
    assert config.html_theme_options["repository_url"] == ""


def test_with_url_buttons_are_on(monkeypatch):
    monkeypatch.setenv(launch_buttons.VARIABLE, "https://github.com/someone/jijtutorial/")
    config = _config()
    launch_buttons._configure(None, config)
    opts = config.html_theme_options
    assert opts["repository_url"] == "https://github.com/someone/jijtutorial"
    assert opts["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert opts["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert opts["launch_buttons"]["thebe"] is False


def test_bad_url_is_refused(monkeypatch):
    monkeypatch.setenv(launch_buttons.VARIABLE, "github.com/someone/jijtutorial")
    with pytest.raises(ValueError, match="must be an http"):
        launch_buttons._configure(None, _config())
