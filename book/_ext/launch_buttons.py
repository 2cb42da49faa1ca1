"""Launch buttons (Colab, Binder) and repository links, switched on by the book's repository URL.

The URL of the published repository is not hard-coded: set ``JIJTUTORIAL_REPOSITORY_URL``
(e.g. the GitHub address of your fork) when building, and every chapter gets "launch in Colab /
Binder" buttons and a link to its source. Without it the book builds without them (sphinx-book-theme
cannot make launch buttons without a repository).
"""

from __future__ import annotations

import os

VARIABLE = "JIJTUTORIAL_REPOSITORY_URL"


def _configure(app, config) -> None:
    url = os.environ.get(VARIABLE, "").strip().rstrip("/")
    if not url:
        return
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{VARIABLE} must be an http(s) URL of the repository, not {url!r}.")
    opts = dict(config.html_theme_options)
    opts.update(
        repository_url=url,
        repository_branch=os.environ.get("JIJTUTORIAL_REPOSITORY_BRANCH", "main"),
        path_to_docs="",
        use_repository_button=True,
        use_issues_button=True,
        launch_buttons={
            **opts.get("launch_buttons", {}),
            "notebook_interface": "jupyterlab",
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
        },
    )
    config.html_theme_options = opts


def setup(app):
    app.connect("config-inited", _configure, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
