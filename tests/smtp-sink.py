#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A local SMTP server for Recoup's outbox tests (Debian's python3-aiosmtpd).

smtp-sink.py --port P --dir D [--refuse-auth] [--max-size N] [--delay-after-data S]

Each message received is written to D as NNNNNN.eml (atomically), preceded by
X-Envelope-From / X-Envelope-To lines. Recipients @reject.example are refused
with 550. When listening, it writes D/ready. Stops on SIGTERM.
"""
import argparse
import asyncio
import os
import signal
import threading
import time
import warnings

warnings.filterwarnings("ignore")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--dir", required=True)
parser.add_argument("--refuse-auth", action="store_true")
parser.add_argument("--max-size", type=int, default=33554432)
parser.add_argument("--delay-after-data", type=float, default=0)
args = parser.parse_args()


class Handler:
    def __init__(self):
        self.count = len([n for n in os.listdir(args.dir) if n.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@reject.example"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(args.dir, "%06d.eml" % self.count)
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\r\n" % envelope.mail_from).encode())
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        if args.delay_after_data:
            # The message is stored but the client has no answer yet: a client
            # killed now cannot know whether it was delivered.
            await asyncio.sleep(args.delay_after_data)
        return "250 OK queued"


def authenticate(server, session, envelope, mechanism, auth_data):
    if args.refuse_auth:
        return AuthResult(success=False, handled=False)  # answers 535
    return AuthResult(success=True)


controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=args.port,
    data_size_limit=args.max_size,
    authenticator=authenticate,
    auth_require_tls=False,
)
controller.start()
with open(os.path.join(args.dir, "ready.tmp"), "w") as f:
    f.write(str(args.port))
os.rename(os.path.join(args.dir, "ready.tmp"), os.path.join(args.dir, "ready"))

parent = os.getppid()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
signal.signal(signal.SIGINT, lambda *a: stop.set())
while not stop.is_set() and os.getppid() == parent:
    # Stop with the test that started us, even if it crashed.
    time.sleep(0.1)
controller.stop()
try:
    os.unlink(os.path.join(args.dir, "ready"))
except OSError:
    pass
