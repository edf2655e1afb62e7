"""nbgrader configuration for the ML-engineering course.

Every path is relative to this file's folder, so the course works from any clone. The gradebook is
SQLite in the course root unless COURSE_DB_URL names another database (PostgreSQL for a cohort).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "ml-engineering"
c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = os.environ.get(
    "COURSE_DB_URL", f"sqlite:///{COURSE_ROOT / 'gradebook.db'}"
)
# nbgrader's exchange (release/fetch/submit/collect between accounts on one machine, e.g. a JupyterHub).
if "COURSE_EXCHANGE" in os.environ:
    c.Exchange.root = os.environ["COURSE_EXCHANGE"]
# Only notebooks are released: data comes from data/, and instructor-only files never travel.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md", "instructor"
]

# Each cell gets a generous budget (the slowest cell of any notebook takes a few seconds here);
# a runaway student loop is interrupted, not waited for.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120

# nbgrader zeroes a grade cell that writes anything to stderr. Library warnings (FutureWarning,
# ConvergenceWarning, ...) are harmless, so strip stderr outputs that are only warnings.
c.IgnorePattern.enabled = True  # off by default in nbgrader
c.IgnorePattern.pattern = r"^(\S*:\d+: )?\w*Warning: "

# Student output is capped so a print loop cannot blow up the gradebook or the feedback page.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# `course grade` (nbcourse.grading) runs each notebook in a scratch copy outside the course folder,
# so kernels find the data by COURSE_DATA_DIR; "{course_root}" is the course root on the machine
# that runs the kernel (a Dask worker may keep the course elsewhere).
c.CourseGrader.kernel_env = {"COURSE_DATA_DIR": os.environ.get("COURSE_DATA_DIR", "{course_root}/data")}
