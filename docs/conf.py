"""Sphinx configuration of the pytest-learning-phase documentation (builds offline)."""

from __future__ import annotations

import pytest_learning_phase

project = "pytest-learning-phase"
author = "pytest-learning-phase developers"
copyright = "pytest-learning-phase developers"
release = pytest_learning_phase.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
# The example suite and the snippets are included by the pages, not pages themselves.
exclude_patterns = ["_build", "examples", "snippets", "**/.pytest_cache", "**/__pycache__"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"pytest-learning-phase {release}"
