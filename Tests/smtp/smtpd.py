#!/usr/bin/env python3
"""A test SMTP server for Turno's SMTP client (Tests/TurnoServerTests/SMTPClientTests.swift), on aiosmtpd.

usage: smtpd.py --port P --dir D --cert C --key K [--auth user:pass] [--auth-login-only]
                [--reject-rcpt addr] [--no-tls | --implicit-tls] [--verbose]

Listens on 127.0.0.1:P. By default it requires STARTTLS before anything else; --no-tls offers no TLS at
all (and then allows AUTH in the clear), --implicit-tls speaks TLS from the first byte instead.
Each message received is written as D/<n>.eml, the raw bytes as received (after the SMTP dot-unstuffing),
with D/<n>.json beside it: the envelope, whether TLS and AUTH were used, and the message as Python's
email package reads it, so that the test checks the client's encoding against an independent decoder.
Prints "ready" once listening, and runs until SIGTERM or SIGINT, or until its parent dies.
"""

import argparse
import email
import email.policy
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    """Writes each message to the directory, and refuses one recipient if asked."""

    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = reject.lower() if reject else None
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and address.lower() == self.reject:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(("plain",))
        sidecar = {
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            # session.ssl is only set by STARTTLS; with implicit TLS the transport itself is TLS.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "auth": session.auth_data,
            "headers": {name: str(value) for name, value in parsed.items()},
            # The parser keeps the CRLF line endings of the wire; the client was given "\n".
            "body": body.get_content().replace("\r\n", "\n") if body is not None else None,
            "content_transfer_encoding": parsed.get("Content-Transfer-Encoding"),
        }
        with self.lock:
            number = next(self.numbers)
        base = os.path.join(self.directory, str(number))
        # The .eml last, each renamed into place, so that a reader who sees the .eml finds both complete.
        for suffix, content in ((".json", json.dumps(sidecar, indent=2).encode()), (".eml", raw)):
            with open(base + suffix + ".tmp", "wb") as file:
                file.write(content)
            os.rename(base + suffix + ".tmp", base + suffix)
        return "250 2.0.0 Message accepted"


def make_authenticator(credentials):
    user, _, password = credentials.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        ):
            return AuthResult(success=True, auth_data={"user": user, "mechanism": mechanism})
        return AuthResult(success=False, handled=False)

    return authenticate


def main():
    # A parent's thread may have spawned us with these blocked (libdispatch's workers block them), and they stay
    # blocked across exec: then SIGTERM would never reach the handler below.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--auth", help="user:pass; AUTH is then required")
    parser.add_argument("--auth-login-only", action="store_true", help="offer AUTH LOGIN but not PLAIN")
    parser.add_argument("--reject-rcpt", help="answer 550 to RCPT TO this address")
    parser.add_argument("--verbose", action="store_true", help="log aiosmtpd's warnings and session errors")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-tls", action="store_true", help="offer no STARTTLS, and allow AUTH in the clear")
    mode.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte, as on port 465")
    args = parser.parse_args()

    if not args.verbose:
        # The tests provoke failed handshakes and AUTH without STARTTLS on purpose: their tracebacks are noise.
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        warnings.simplefilter("ignore")
    os.makedirs(args.dir, exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    options = {"server_hostname": "smtpd.test", "ident": "Turno test smtpd"}
    if args.no_tls:
        options["auth_require_tls"] = False
    elif args.implicit_tls:
        options["ssl_context"] = context
        # aiosmtpd only counts STARTTLS as TLS, and would not offer AUTH on a connection that is TLS from the start.
        options["auth_require_tls"] = False
    else:
        options["tls_context"] = context
        options["require_starttls"] = True
    if args.auth:
        options["authenticator"] = make_authenticator(args.auth)
        options["auth_required"] = True
        if args.auth_login_only:
            options["auth_exclude_mechanism"] = ["PLAIN"]

    controller = Controller(Store(args.dir, args.reject_rcpt), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print("ready", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    # Polls rather than blocks, so that signals are handled and an orphaned server does not outlive its test.
    while not stop.wait(0.2) and os.getppid() == parent:
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
