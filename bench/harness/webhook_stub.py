"""`python -m bench.harness.webhook_stub`: where the simulator's webhooks go in the dispatch benchmark.

It prints the port it listens on, then answers every status callback with
204 and anything asking for TwiML with `<Hangup/>`, until TERM. Serving the
app's own webhooks instead (signature check, hash-chained call log, one
commit each) would take the cores the schedulers are being measured on.
"""

from __future__ import annotations

import asyncio
import signal

HANGUP = b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'


async def _connection(reader, writer) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
            path = lines[0].split(b" ")[1] if len(lines[0].split(b" ")) > 1 else b""
            if b"/status" in path:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:  # anything asking for TwiML: end the call
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
                             + str(len(HANGUP)).encode() + b"\r\n\r\n" + HANGUP)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:
        pass  # the stub is stopping with the connection still open (kept alive): end quietly
    finally:
        writer.close()


async def serve() -> None:
    server = await asyncio.start_server(_connection, "127.0.0.1", 0, backlog=1024)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await stopped.wait()


if __name__ == "__main__":
    asyncio.run(serve())
