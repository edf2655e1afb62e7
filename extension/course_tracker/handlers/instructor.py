"""The instructor's REST handlers: the cohort view, under `<base_url>/course-tracker/cohort`.

Authorised by role: only a server configured with `CourseTracker.role = "instructor"` (on a hub,
the `instructors` group's servers) answers; a student's server answers 403 to every request.
"""

from __future__ import annotations

import tornado.web

from ..cohort import CohortService
from .base import TrackerAPIHandler


class CohortAPIHandler(TrackerAPIHandler):
    """A handler of the cohort view: the server's one CohortService."""

    @property
    def cohort(self) -> CohortService:
        return self.service.cohort()


class CohortHandler(CohortAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def action() -> None:
            body = await self.call(self.cohort.report_json)
            self.finish(body, set_content_type="application/json; charset=utf-8")

        await self.run(action)


class CohortCSVHandler(CohortAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def action() -> None:
            text = await self.call(self.cohort.csv)
            self.set_header("Content-Disposition", 'attachment; filename="cohort.csv"')
            # APIHandler.finish would label it JSON unless told otherwise
            self.finish(text, set_content_type="text/csv; charset=utf-8")

        await self.run(action)


class CohortFailuresHandler(CohortAPIHandler):
    @tornado.web.authenticated
    async def get(self, assignment: str, notebook: str, grade_id: str) -> None:
        async def action() -> None:
            self.send_json(await self.call(self.cohort.failures, assignment, notebook, grade_id))

        await self.run(action)


HANDLERS = [
    (r"cohort", CohortHandler),
    (r"cohort\.csv", CohortCSVHandler),
    (r"cohort/failures/([^/]+)/([^/]+)/([^/]+)", CohortFailuresHandler),
]
