"""Course authoring: build the student release with nbgrader, prove it leaks nothing and is in
sync with the source, and copy it into a learner's workspace without touching their work.
"""

from .build import BuildError, build_release, generate_assignment
from .leaks import check_notebook, check_release_clean, secrets_of
from .sync import ReleaseReport, check_release, diff_trees
from .workspace import WorkspaceReport, default_workspace, sync_workspace

__all__ = [
    "BuildError",
    "ReleaseReport",
    "WorkspaceReport",
    "build_release",
    "check_notebook",
    "check_release",
    "check_release_clean",
    "default_workspace",
    "diff_trees",
    "generate_assignment",
    "secrets_of",
    "sync_workspace",
]
