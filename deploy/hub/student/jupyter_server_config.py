"""A student's single-user server on the course hub (loaded through JUPYTER_CONFIG_PATH)."""

import os

c = get_config()  # noqa: F821

c.CourseTracker.course_root = os.environ.get("COURSE_HUB_IMAGE", "/srv/ml-engineering")
c.CourseTracker.workspace_dir = "~"  # nbgrader fetch_assignment puts assignments in the home folder
# No gradebook for students: their results come from the feedback they fetch.
c.CourseTracker.db_url = ""
# Check my work would grade against visible tests only (the hidden ones live with the grader), which
# the sidebar's self-check already shows; on a hub the instructor grades, so the button is off.
c.CourseTracker.check_my_work = False
c.CourseTracker.role = "student"
