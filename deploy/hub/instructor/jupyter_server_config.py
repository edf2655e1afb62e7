"""An instructor's single-user server on the course hub: the cohort view over the grader's gradebook."""

import os

c = get_config()  # noqa: F821

c.CourseTracker.course_root = os.environ.get("COURSE_GRADER_ROOT", "/srv/ml-engineering-grader")
c.CourseTracker.workspace_dir = "~"
# The grader's directory is readable by the staff group (not by students); the gradebook URL with its
# password comes from the hub (COURSE_DB_URL, set for instructors' servers only), read by the
# grader's nbgrader_config.py.
c.CourseTracker.check_my_work = False
c.CourseTracker.role = "instructor"
