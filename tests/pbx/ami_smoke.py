#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Smoke test of app_hotline.so and of the test dialplan, over AMI (stdlib only).

1. Logs in on 127.0.0.1:25038, sets a test agent global (Setvar without
   Channel), originates Local/<queue>@hotline-callers (which runs
   HotlineQueue(<queue>)) and waits for the dialplan's
   UserEvent HotlineTestCallerDone.
2. With --agent-modes: originates Local/<id>@hotline-agents once per
   AGENT_MODE and checks the OriginateResponse reason of each.
Exit 0 on success.

    python3 tests/pbx/ami_smoke.py [--port 25038] [--queue 100] [--agent-modes]
"""
import argparse
import socket
import sys
import time


class Ami:
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.banner = self._readline()

    def _readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("AMI closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def read_message(self):
        msg = {}
        while True:
            line = self._readline()
            if line == "":
                if msg:
                    return msg
                continue
            key, _, value = line.partition(":")
            msg[key.strip()] = value.strip()

    def send(self, action, **fields):
        lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def action(self, action, **fields):
        aid = f"{action}-{time.monotonic_ns()}"
        self.send(action, ActionID=aid, **fields)
        while True:
            msg = self.read_message()
            if msg.get("ActionID") == aid and "Response" in msg:
                return msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25038)
    ap.add_argument("--queue", default="100")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--agent-modes", action="store_true")
    args = ap.parse_args()

    ami = Ami(args.host, args.port, args.timeout)
    print("banner:", ami.banner)
    r = ami.action("Login", Username="hotline", Secret="hotline", Events="user,call")
    assert r["Response"] == "Success", r
    # Global variable (no Channel): the agent script reads AGENT_MODE_<id>.
    r = ami.action("Setvar", Variable="AGENT_MODE_1001", Value="answer")
    assert r["Response"] == "Success", r
    r = ami.action("Getvar", Variable="AGENT_MODE_1001")
    assert r.get("Value") == "answer", r

    r = ami.action(
        "Originate",
        Channel=f"Local/{args.queue}@hotline-callers",
        Application="Wait",
        Data="2",
        Async="true",
    )
    assert r["Response"] == "Success", r
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        msg = ami.read_message()
        if msg.get("Event") == "UserEvent" and msg.get("UserEvent") == "HotlineTestCallerDone":
            print("event:", msg)
            assert msg.get("Queue") == args.queue, msg
            break
    else:
        print("no HotlineTestCallerDone event", file=sys.stderr)
        return 1
    if args.agent_modes:
        check_agent_modes(ami, args.timeout)
    ami.action("Logoff")
    print("OK")
    return 0


# OriginateResponse "Reason": the last control frame of the outcome
# (4 answered, 5 busy, 3 still ringing at the timeout; an unanswered Local
# channel that just goes away reports 0).
AGENT_MODES = {
    "answer": ("4",),
    "answerhangup": ("4",),
    "busy": ("5",),
    "noanswer": ("3",),
    "hangup": ("0", "1"),
}


def check_agent_modes(ami, timeout):
    for i, (mode, reasons) in enumerate(AGENT_MODES.items()):
        agent = f"20{i}"
        r = ami.action("Setvar", Variable=f"AGENT_MODE_{agent}", Value=mode)
        assert r["Response"] == "Success", r
        ami.action("Setvar", Variable=f"AGENT_TALK_{agent}", Value="1")
        r = ami.action(
            "Originate",
            Channel=f"Local/{agent}@hotline-agents",
            Application="Wait",
            Data="1",
            Timeout="3000",
            Async="true",
        )
        assert r["Response"] == "Success", r
        aid = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = ami.read_message()
            if msg.get("Event") == "OriginateResponse" and msg.get("Channel", "").startswith(
                f"Local/{agent}@hotline-agents"
            ):
                aid = msg
                break
        assert aid is not None, f"no OriginateResponse for mode {mode}"
        got = aid.get("Reason")
        print(f"agent mode {mode:13} -> Reason {got} ({aid.get('Response')})")
        assert got in reasons, f"mode {mode}: expected Reason {reasons}, got {aid}"


if __name__ == "__main__":
    sys.exit(main())
