#!/usr/bin/python3
"""examples/flask/app.cgi -- the CGI adapter of examples/flask/app.py.

    mkdir -p www/cgi-bin/flask
    cp examples/flask/app.py examples/flask/app.cgi www/cgi-bin/flask/
    chmod 755 www/cgi-bin/flask/app.cgi     # not group/other-writable
    ./httpd -x /cgi-bin/
    curl http://localhost:8888/cgi-bin/flask/app.cgi/greet?name=you

(Debian: apt-get install python3-flask.)  httpd runs the script in its own
directory, so app.py is found next to it; the application's URLs are
SCRIPT_NAME (/cgi-bin/flask/app.cgi) + PATH_INFO, which Flask's url_for
honours.  wsgiref's CGIHandler turns the WSGI response into a CGI header
block (Status:, the fields, an empty line) and the body on stdout.
A CGI script is started once per request: fine for small sites; the
import of Flask is the price of every request.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True         # the server's user cannot write here anyway

from wsgiref.handlers import CGIHandler  # noqa: E402

from app import app  # noqa: E402

CGIHandler().run(app)
