"""The JupyterLab settings of the session: tasks.py installs jupyterlab-settings/overrides.json where
JupyterLab reads its default overrides, without losing other settings, and refuses a broken file."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
tasks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tasks)

SHIPPED = json.loads((ROOT / "jupyterlab-settings" / "overrides.json").read_text())


def test_the_shipped_settings_switch_off_lazy_rendering_and_the_news():
    assert SHIPPED["@jupyterlab/notebook-extension:tracker"]["windowingMode"] == "none"
    assert SHIPPED["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}


def test_the_settings_are_valid_for_this_jupyterlab():
    """Each key exists in the schema of this JupyterLab's plugin and takes the value shipped."""
    lab = pytest.importorskip("jupyterlab")
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    if not schemas.is_dir():
        pytest.skip(f"no JupyterLab schemas in {schemas} ({lab.__name__} installed elsewhere)")
    for plugin, settings in SHIPPED.items():
        package, name = plugin.split(":")
        props = json.loads((schemas / package / f"{name}.json").read_text())["properties"]
        for key, value in settings.items():
            assert key in props, f"{plugin} has no setting {key!r} in JupyterLab {lab.__version__}"
            allowed = [c["const"] for c in props[key].get("oneOf", [])] or None
            assert allowed is None or value in allowed, f"{plugin}.{key}: {value!r} not one of {allowed}"


def test_install_merges_idempotently_and_keeps_other_settings(tmp_path):
    target = tmp_path / "overrides.json"
    target.write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                "@jupyterlab/notebook-extension:tracker": {"windowingMode": "full", "recordTiming": True},
            }
        )
    )
    assert tasks.install_lab_settings(tmp_path) is True
    written = json.loads(target.read_text())
    assert written["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert written["@jupyterlab/notebook-extension:tracker"] == {"windowingMode": "none", "recordTiming": True}
    assert written["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    before = target.stat().st_mtime_ns
    assert tasks.install_lab_settings(tmp_path) is False and target.stat().st_mtime_ns == before
    assert not list(tmp_path.glob("*.tmp"))


def test_install_creates_the_folder(tmp_path):
    assert tasks.install_lab_settings(tmp_path / "share" / "jupyter" / "lab" / "settings") is True
    assert json.loads((tmp_path / "share/jupyter/lab/settings/overrides.json").read_text()) == SHIPPED


def test_install_refuses_a_broken_file(tmp_path):
    (tmp_path / "overrides.json").write_text('{"a": 1,\n  oops}')
    with pytest.raises(SystemExit, match=r"overrides.json, line 2, column 3: not valid JSON.*fix or delete it"):
        tasks.install_lab_settings(tmp_path)


def test_the_settings_go_where_this_environments_jupyterlab_reads_them():
    commands = pytest.importorskip("jupyterlab.commands")
    if Path(sys.prefix).resolve() != tasks.VENV.resolve():
        pytest.skip(f"tests run outside the environment tasks.py manages ({tasks.VENV})")
    assert Path(commands.get_app_dir()).resolve() / "settings" == tasks.LAB_SETTINGS_DIR.resolve()
