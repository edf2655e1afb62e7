"""Every HTTP method of every tracker handler must be `@tornado.web.authenticated`.

The check is structural, so a handler added later without the decorator fails here even before
anyone writes a request test for it.
"""

from __future__ import annotations

import inspect

import tornado.web
from jupyter_server.base.handlers import APIHandler

from course_tracker.handlers import learner as handlers

HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
# tornado.web.authenticated wraps with functools.wraps: every wrapper shares one code object.
_AUTH_WRAPPER_CODE = tornado.web.authenticated(lambda self: None).__code__


def is_authenticated(method: object) -> bool:
    return getattr(method, "__code__", None) is _AUTH_WRAPPER_CODE and hasattr(method, "__wrapped__")


def our_handler_classes() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(handlers, inspect.isclass)
        if issubclass(cls, tornado.web.RequestHandler) and cls.__module__ == handlers.__name__
    ]


def unauthenticated_methods(classes: list[type]) -> list[str]:
    """`Class.method` for every HTTP method our classes define without the decorator."""
    problems = []
    for cls in classes:
        for name in HTTP_METHODS:
            # Only methods written in this module: jupyter_server's own (e.g. OPTIONS for CORS)
            # are its responsibility.
            owner = next((k for k in cls.__mro__ if name in vars(k)), None)
            if owner is None or owner.__module__ != handlers.__name__:
                continue
            if not is_authenticated(vars(owner)[name]):
                problems.append(f"{cls.__name__}.{name}")
    return problems


def test_every_http_method_is_authenticated() -> None:
    classes = our_handler_classes()
    defined = [(cls.__name__, name) for cls in classes for name in HTTP_METHODS if name in vars(cls)]
    # The walk must actually see the handlers, or an empty result would prove nothing.
    assert len(defined) >= 6, defined
    assert unauthenticated_methods(classes) == []


def test_every_routed_handler_is_checked() -> None:
    routed = {cls for _, cls in handlers.HANDLERS}
    assert routed <= set(our_handler_classes())
    assert all(issubclass(cls, APIHandler) for cls in routed)


def test_the_check_catches_a_missing_decorator() -> None:
    class Careless(handlers.TrackerAPIHandler):
        def get(self) -> None:
            self.finish("{}")

    class Careful(handlers.TrackerAPIHandler):
        @tornado.web.authenticated
        def get(self) -> None:
            self.finish("{}")

    Careless.__module__ = Careful.__module__ = handlers.__name__
    assert unauthenticated_methods([Careless, Careful]) == ["Careless.get"]


def test_every_audience_module_is_checked() -> None:
    """A handler module added for another audience (the instructor's cohort view) is held to the
    same rule as the learner's, as soon as `routes` serves it."""
    from course_tracker.handlers import AUDIENCES

    assert handlers in AUDIENCES
    for module in AUDIENCES:
        classes = [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, tornado.web.RequestHandler) and cls.__module__ == module.__name__
        ]
        assert {cls for _, cls in module.HANDLERS} <= set(classes), module.__name__
        problems = []
        for cls in classes:
            for name in HTTP_METHODS:
                method = vars(cls).get(name)
                if method is not None and not is_authenticated(method):
                    problems.append(f"{module.__name__}.{cls.__name__}.{name}")
        assert problems == []
