#!/usr/bin/python3
"""tests/cgi-apps/django/app.cgi -- a one-file Django application run as a
CGI script through wsgiref.handlers.CGIHandler (tests/cgi.py, "django").

The same routes as the Flask example (examples/flask/app.py): /, /greet,
/form (GET and POST), /cookie/set and /cookie/get, /go (a redirect), /where,
and Django's own 404 for anything else.  Settings are configured in code:
no project directory, no database, no CSRF middleware (a test fixture).
"""
import sys

sys.dont_write_bytecode = True

from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="cgi-test-fixture-only",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
    DEFAULT_CHARSET="utf-8",
)

from django.http import HttpResponse, HttpResponseRedirect  # noqa: E402
from django.urls import path, reverse  # noqa: E402


def text(s, status=200):
    return HttpResponse(s, status=status, content_type="text/plain; charset=utf-8")


def index(request):
    return text("hello from django\n")


def greet(request):
    return text("Hello, %s!\n" % request.GET.get("name", "nobody"))


def form(request):
    if request.method == "POST":
        return text("name=%s\ncolour=%s\n" % (request.POST.get("name", ""),
                                              request.POST.get("colour", "")))
    return HttpResponse('<!doctype html><form method="post"><input name="name">'
                        '<input name="colour"><button>send</button></form>\n')


def cookie_set(request):
    resp = text("cookie set\n")
    resp.set_cookie("flavour", request.GET.get("v", "oatmeal"), httponly=True)
    return resp


def cookie_get(request):
    return text("flavour=%s\n" % request.COOKIES.get("flavour", "none"))


def go(request):
    return HttpResponseRedirect(reverse("greet") + "?name=redirected")


def where(request):
    return text("script_root=%s\npath=%s\nindex=%s\n"
                % (request.META.get("SCRIPT_NAME", ""), request.path_info, reverse("index")))


urlpatterns = [
    path("", index, name="index"),
    path("greet", greet, name="greet"),
    path("form", form),
    path("cookie/set", cookie_set),
    path("cookie/get", cookie_get),
    path("go", go),
    path("where", where),
]

if __name__ == "__main__":
    from wsgiref.handlers import CGIHandler

    from django.core.wsgi import get_wsgi_application

    CGIHandler().run(get_wsgi_application())
