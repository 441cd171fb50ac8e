"""The Flask session tutorial app, as our users wrote it: the other side of the interop tests.

Run: FLASK_SECRET_KEY=... python3 app.py PORT
"""

import os
import sys

from flask import Flask, request, session

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]


@app.route("/")
def index():
    return (
        '<form method="post" action="/greeting">'
        '<input name="name"><input name="lastname"><button>Greet</button></form>'
    )


@app.route("/greeting", methods=["POST"])
def greeting():
    session["name"] = request.form["name"]
    session["lastname"] = request.form["lastname"]
    # "Remember me": a permanent session (a cookie with Expires); otherwise Flask's default,
    # a browser-session cookie.
    if request.form.get("remember") == "on":
        session.permanent = True
    return f"Hello {session['name']} {session['lastname']}"


@app.route("/permanent")
def permanent():
    return str(session.permanent)


@app.route("/session-data")
def session_data():
    return f"Session Data: {session.get('name', '')} {session.get('lastname', '')}"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
