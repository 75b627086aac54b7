"""Provides ``predeploy sign``: a sign-off from the command line, SSH-signed when a key is given."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from predeploy_tui.commands import UsageError, existing_file

HELP = "sign off a session for a role (with --key or --agent: an SSH signature too)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")
    p.add_argument("--role", required=True, help="the sign-off role (engineering, operations...)")
    p.add_argument("--name", help="who signs (default: git user.name, else login name)")
    p.add_argument("--comment", default="", help="a comment kept with the sign-off")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--key", metavar="FILE", help="sign with this SSH private key file")
    how.add_argument("--agent", action="store_true", help="sign with the SSH agent's first key")


def main(args: argparse.Namespace) -> int:
    """Record the sign-off (and its signature) and save the session, holding its lock throughout."""
    from predeploy_tui.core import integrity, store
    from predeploy_tui.core.session import SignOff
    from predeploy_tui.engine import signing
    from predeploy_tui.engine.session_file import default_person, open_existing

    path = existing_file(args.session, "session")
    opened = open_existing(path, now=lambda: datetime.now(UTC), interrupt=False)
    try:
        session = opened.session
        roles = {r.role: r for r in session.signoff_roles}
        if args.role not in roles:
            raise UsageError(f"no sign-off role {args.role!r}; expected one of "
                             + ", ".join(sorted(roles)))
        now = datetime.now(UTC)
        # Checks a dead writer left running are recorded as interrupted before the seal covers them.
        opened.interrupt_running(now)
        signoff = integrity.seal_signoff(session, SignOff(
            role=args.role, title=roles[args.role].title,
            name=args.name or default_person(), at=now, comment=args.comment))
        if args.key or args.agent:
            try:
                made = asyncio.run(signing.sign(
                    signing.message(signoff.content_sha256),
                    key_file=Path(args.key) if args.key else None))
            except signing.SigningError as exc:
                raise UsageError(str(exc)) from None
            signoff.signature, signoff.signer_key = made.armored, made.fingerprint
            integrity.reseal(signoff)
        session.sign(signoff, now)
        store.save(session, path)
    finally:
        opened.release()
    print(f"signed {args.role} as {signoff.name}"
          + (f" with {signoff.signer_key}" if signoff.signer_key else ""))
    return 0
