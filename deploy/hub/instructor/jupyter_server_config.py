"""An instructor's single-user server on the course hub: the cohort view over the grader's gradebook."""

import os

c = get_config()  # noqa: F821

c.CourseTracker.course_root = os.environ.get("COURSE_GRADER_ROOT", "/srv/ml-engineering-grader")
c.CourseTracker.workspace_dir = "~"
# The gradebook URL (with its password) comes from the grader's nbgrader_config.py / COURSE_DB_URL.
c.CourseTracker.check_my_work = False
c.CourseTracker.role = "instructor"
