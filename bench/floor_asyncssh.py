"""Provides the floor for a Python tool: a bare asyncssh script, one connection per host.

Run as its own process (``python bench/floor_asyncssh.py CONFIG KNOWN_HOSTS PER_HOST COMMAND
HOST...``) so that its figure, like every other one, is a whole process: interpreter start,
imports, handshakes, commands. It keeps the limits the engine keeps by default (10 handshakes in
flight, 4 channels per host), the ones a default sshd needs, so the comparison is like with like.
"""

from __future__ import annotations

import asyncio
import sys

import asyncssh

HANDSHAKES = 10
CHANNELS = 4


async def host_work(alias: str, config: str, known_hosts: str, commands: list[str],
                    handshakes: asyncio.Semaphore) -> list[str]:
    """Connect to one host and run its commands, at most CHANNELS at a time."""
    async with handshakes:
        conn = await asyncssh.connect(alias, config=[config], known_hosts=known_hosts,
                                      agent_path=None, connect_timeout=10)
    channels = asyncio.Semaphore(CHANNELS)

    async def one(command: str) -> str:
        async with channels:
            result = await asyncio.wait_for(conn.run(command, check=True), timeout=10)
            return str(result.stdout)

    try:
        return list(await asyncio.gather(*(one(c) for c in commands)))
    finally:
        conn.close()


async def main(argv: list[str]) -> int:
    """Run PER_HOST copies of COMMAND on every host; exit 1 unless every one succeeded."""
    config, known_hosts, per_host, command, *hosts = argv
    handshakes = asyncio.Semaphore(HANDSHAKES)
    outputs = await asyncio.gather(*(host_work(h, config, known_hosts, [command] * int(per_host),
                                               handshakes) for h in hosts))
    done = sum(len(o) for o in outputs)
    return 0 if done == len(hosts) * int(per_host) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
