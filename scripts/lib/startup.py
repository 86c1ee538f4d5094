"""Times `turno serve` from process start until /readyz answers 200, over several runs.

Usage: startup.py BINARY DATABASE_URL RUNS
Prints the median and the slowest run in milliseconds. Talks only to 127.0.0.1.
"""
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(binary, database):
    port = free_port()
    start = time.monotonic()
    process = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--database", database, "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while time.monotonic() - start < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return (time.monotonic() - start) * 1000
            except OSError:
                time.sleep(0.002)
        raise SystemExit("server did not become ready in 30 s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main():
    binary, database, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    times = [one_run(binary, database) for _ in range(runs)]
    print(f"start to ready: median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms over {runs} runs")


if __name__ == "__main__":
    main()
