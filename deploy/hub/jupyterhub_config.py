"""JupyterHub for a cohort of the course: real Unix users, PAM login, one single-user server each.

Copy this file to the hub machine and set the paths below (or the environment variables they read).
What lives where (see the README's "A cohort on JupyterHub"):

* the **course image** (`COURSE_HUB_IMAGE`, readable by everyone): the course environment, course.yaml,
  release/ and data/ **without** data/instructor/;
* the **grader's course directory** (`COURSE_GRADER_ROOT`, owned by the grader account, mode 0750
  with the teaching staff's Unix group, so instructors' servers can read it and students cannot):
  source/, data/instructor/, nbgrader_config.py, submitted/ and autograded/; the gradebook is
  PostgreSQL with a password only the grader's environment and the hub (`COURSE_GRADEBOOK_URL`,
  handed to instructors' servers only) hold;
* nbgrader's **exchange** (`COURSE_EXCHANGE`, mode 1777 as nbgrader's docs ask), where students
  fetch assignments and feedback and submit.

Students and instructors are told apart by JupyterHub groups (RBAC): members of `instructors` get the
instructor's single-user configuration (cohort view, grading tools); everyone else the student's.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets when JupyterHub loads this file

HERE = Path(__file__).resolve().parent
IMAGE = Path(os.environ.get("COURSE_HUB_IMAGE", "/srv/ml-engineering"))
EXCHANGE = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
ENV_BIN = Path(os.environ.get("COURSE_HUB_ENV", IMAGE / "env")) / "bin"
STUDENTS = [u for u in os.environ.get("COURSE_HUB_STUDENTS", "").split(",") if u]
INSTRUCTORS = [u for u in os.environ.get("COURSE_HUB_INSTRUCTORS", "").split(",") if u]
GRADER_ROOT = os.environ.get("COURSE_GRADER_ROOT", "/srv/ml-engineering-grader")
# The gradebook's URL with its password: instructors' servers read grades for the cohort view;
# it is never put in a student's environment.
GRADEBOOK_URL = os.environ.get("COURSE_GRADEBOOK_URL", "")

c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = os.environ.get("COURSE_HUB_PROXY_API", "http://127.0.0.1:8001")
state = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

# Real Unix users: PAM checks their password, each server runs as that user, so the operating system
# (not the extension) keeps students out of source/, data/instructor/ and each other's homes.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(STUDENTS) | set(INSTRUCTORS)
c.Authenticator.admin_users = set()  # instructors need no hub admin rights to teach
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

c.JupyterHub.load_groups = {
    "instructors": {"users": INSTRUCTORS},
    "students": {"users": STUDENTS},
}
c.JupyterHub.load_roles = [
    # A student reaches only their own server (JupyterHub's default `user` role does exactly that).
    {"name": "user", "scopes": ["self"]},
    # Instructors may see who is enrolled and whether their servers run; grading happens in the
    # grader's account and the cohort view reads the gradebook, not the students' servers.
    {"name": "instructor", "groups": ["instructors"], "scopes": ["self", "list:users", "read:users"]},
]

# An optional automation token (CI, a course bot): admin over users and servers, nothing else.
if os.environ.get("COURSE_HUB_SERVICE_TOKEN"):
    c.JupyterHub.services = [
        {"name": "course-automation", "api_token": os.environ["COURSE_HUB_SERVICE_TOKEN"]}
    ]
    c.JupyterHub.load_roles.append(
        {
            "name": "course-automation",
            "services": ["course-automation"],
            "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users"],
        }
    )


def course_environment(spawner):
    """Give each server the course's configuration for its role, before it starts."""
    role = "instructor" if any(g.name == "instructors" for g in spawner.user.groups) else "student"
    spawner.environment.update(
        {
            # instructors: their own server config first, then everything students have
            "JUPYTER_CONFIG_PATH": os.pathsep.join(
                str(HERE / r) for r in (["instructor", "student"] if role == "instructor" else ["student"])
            ),
            "COURSE_HUB_IMAGE": str(IMAGE),
            "COURSE_EXCHANGE": EXCHANGE,
            "COURSE_DATA_DIR": str(IMAGE / "data"),
            "COURSE_ROLE": role,
            "PATH": f"{ENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        }
    )
    if role == "instructor":
        spawner.environment["COURSE_GRADER_ROOT"] = GRADER_ROOT
        if GRADEBOOK_URL:
            spawner.environment["COURSE_DB_URL"] = GRADEBOOK_URL


c.Spawner.pre_spawn_hook = course_environment
