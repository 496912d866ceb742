"""examples/flask/app.py -- a small Flask application, served by httpd as a
CGI script through examples/flask/app.cgi (wsgiref.handlers.CGIHandler).

Routes (tests/cgi.py drives the same ones on the Django twin in
tests/cgi-apps/django/app.cgi):
  /              a greeting
  /greet?name=N  the query string
  /form          GET: an HTML form; POST: the submitted fields
  /cookie/set?v=V and /cookie/get: a cookie round trip
  /go            a redirect (302) to /greet?name=redirected
  /where         what the app knows of its own URL (SCRIPT_NAME + PATH_INFO)
Every answer that repeats input is text/plain, never HTML.
"""
from flask import Flask, make_response, redirect, request, url_for

app = Flask(__name__)
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/")
def index():
    return "hello from flask\n", 200, TEXT


@app.route("/greet")
def greet():
    return "Hello, %s!\n" % request.args.get("name", "nobody"), 200, TEXT


@app.route("/form", methods=["GET", "POST"])
def form():
    if request.method == "POST":
        return ("name=%s\ncolour=%s\n" % (request.form.get("name", ""),
                                          request.form.get("colour", "")), 200, TEXT)
    return ('<!doctype html><form method="post"><input name="name">'
            '<input name="colour"><button>send</button></form>\n')


@app.route("/cookie/set")
def cookie_set():
    resp = make_response("cookie set\n", 200, TEXT)
    resp.set_cookie("flavour", request.args.get("v", "oatmeal"), httponly=True)
    return resp


@app.route("/cookie/get")
def cookie_get():
    return "flavour=%s\n" % request.cookies.get("flavour", "none"), 200, TEXT


@app.route("/go")
def go():
    return redirect(url_for("greet", name="redirected"))


@app.route("/where")
def where():
    return ("script_root=%s\npath=%s\nindex=%s\n"
            % (request.script_root, request.path, url_for("index")), 200, TEXT)
