"""Slow answers (core/http.c's limits): a server on loopback that trickles
its answer one byte a second, or sends nothing at all on an open
connection, must not hold a command for attempts x timeout. Each attempt
slower than the low-speed limit is cut, and one request ends at its
deadline (all attempts together), with a message that names the request
and the limit that ended it."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, check, done, sample_config  # noqa: E402


class Trickler:
    """Accepts connections on a loopback port; reads each request's head,
    then sends an answer head and one body byte every `every` seconds
    (every=None: sends nothing). Counts the connections (attempts)."""

    def __init__(self, every):
        self.every, self.attempts, self.stopping = every, 0, False
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.attempts += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            conn.recv(65536)
            if self.every is not None:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                             b"Content-Length: 100000\r\n\r\n")
            while not self.stopping:
                time.sleep(self.every or 0.2)
                if self.every is not None:
                    conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


tmp = tempfile.mkdtemp(prefix="paasctl-slow-")
cfg = os.path.join(tmp, "paasctl.ini")
with open(cfg, "w") as f:
    f.write(sample_config("slow"))


def status(url, **knobs):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("PAASCTL_")}
    env.update({"HOME": tmp, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": url,
                "AWS_EC2_METADATA_DISABLED": "true", "PAASCTL_RETRY_BASE_MS": "20",
                "NO_COLOR": "1"})
    env.update(knobs)
    t = time.time()
    p = subprocess.run([PAASCTL, "-c", cfg, "status"], env=env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr, time.time() - t


# One byte a second: each attempt is cut after 2 s of it, the request ends
# at its 5 s deadline (it used to take 60 s x 13 attempts).
srv = Trickler(every=1.0)
rc, err, took = status(srv.url, PAASCTL_LOW_SPEED_S="2", PAASCTL_DEADLINE_S="5")
srv.stop()
check("trickle/exit-1", rc == 1, f"rc={rc} {err!r}")
check("trickle/within-deadline", took < 5 + 3, f"{took:.1f} s")
check("trickle/more-than-one-attempt", srv.attempts >= 2, srv.attempts)
check("trickle/names-low-speed-limit", "cut by the low-speed limit, 100 bytes/s for 2 s" in err,
      err)
check("trickle/names-deadline", "deadline is 5 s, all attempts together" in err, err)
check("trickle/names-request", any(w in err for w in ("sts ", "ec2 ", "elb ", "s3 ")), err)

# Nothing at all on an open connection, no low-speed knob: the per-attempt
# default (100 bytes/s for 20 s) is longer than the 3 s deadline, so the
# deadline cuts the first attempt and says so.
srv = Trickler(every=None)
rc, err, took = status(srv.url, PAASCTL_DEADLINE_S="3")
srv.stop()
check("silent/exit-1", rc == 1, f"rc={rc} {err!r}")
check("silent/within-deadline", took < 3 + 3, f"{took:.1f} s")
check("silent/names-deadline", "within the request's deadline of 3 s" in err, err)
print(f"# trickle and silent servers ended in {took:.1f} s", flush=True)
done()
