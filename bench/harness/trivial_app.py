"""The baseline: a Flask app answering `POST /` with a constant TwiML document.

Served by the same gunicorn settings and driven by the same load as the
routing webhook, it shows what the machine, gunicorn, Flask and the load
generator cost on their own.
"""

from flask import Flask, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+8613900000001">'
         '<Number>+8613800000001</Number></Dial></Response>')

app = Flask(__name__)


@app.post("/")
def answer() -> Response:
    return Response(TWIML, mimetype="text/xml")
