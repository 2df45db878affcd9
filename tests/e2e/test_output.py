"""SPEC.md "Output" against the signature-checking emulator: every
command's `-o json` stdout is one document valid against its schema in
docs/schema/ (errors against error.json, exit code unchanged), and waits
show progress as one updating line on a terminal, with no escape sequence
under NO_COLOR or into a pipe, and nothing with -q. The terminal is a real
one (tmux): `paasctl cutover` is typed into a shell while the fault proxy
keeps the live ELB's health OutOfService for a few seconds, so there is a
wait to watch. migrate, consul-sync and a passing smoke are validated in
their own tests (test_migrate, test_consul_sync, test_smoke), which have
the clusters and Consuls those need."""

import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, World, check, done, sample_config  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402
from schemas import SCHEMAS, problems  # noqa: E402
from terminal import Tty  # noqa: E402

NAME = "outp"
w = World()
cfg = w.write_config(sample_config(NAME))
LIVE = f"{NAME}-live"


def json_run(step, command, *args, expect=0, env=None):
    """Runs `paasctl -o json ...`, checks the exit code and the schema."""
    rc, out, err = w.paasctl("-c", cfg, "-o", "json", *args, env=env)
    check(f"{step}/exit-{expect}", rc == expect, f"rc={rc} err={err[-400:]!r}")
    why = problems(command, out, rc)
    check(f"{step}/valid-{command if rc == 0 else 'error'}", why is None, why)
    return json.loads(out) if why is None else None


# The schemas can fail: a document missing a key or with an unknown one.
check("schema/rejects-missing-key", problems("version", '{"paasctl": "1"}') is not None, "")
check("schema/rejects-extra-key", problems("kubeconfig", json.dumps({
    "slot": "a", "path": "/p", "context": "c", "server": "https://x", "user": "u",
    "expires": "2026-01-01T00:00:00Z", "merged": False, "key": "SECRET"})) is not None, "")
check("schema/rejects-two-documents", problems("version", "{}\n{}") is not None, "")
rc, out, _ = w.paasctl("-o", "json", "help")
table = [c["name"] for c in json.loads(out)["commands"]] if rc == 0 else []
check("schema/one-per-command", table and all(c in SCHEMAS for c in table),
      [c for c in table if c not in SCHEMAS])

json_run("version", "version", "version")
json_run("help", "help", "help")
for c in table:
    json_run(f"help-{c}", "help", "help", c)
json_run("usage-error", "error", "cutovr", expect=2)
json_run("plan-shell", "plan", "plan", "shell")
json_run("up-shell", "up", "up", "shell")
json_run("cutover-nothing-prelive", "cutover", "cutover", expect=3)
json_run("rollback-nothing", "rollback", "rollback", expect=3)
json_run("dry-run-up-a", "up", "--dry-run", "up", "a")
json_run("up-a", "up", "up", "a")
json_run("status", "status", "status")
json_run("smoke-no-cluster", "smoke", "smoke", "a", expect=2)
json_run("migrate-no-cluster", "migrate", "migrate", "a", "b", expect=2)
json_run("consul-sync-no-consul", "consul-sync", "consul-sync", "a", "b", "--once", expect=2)
json_run("kubeconfig", "kubeconfig", "kubeconfig", "a", "--file", os.path.join(w.dir, "a.yaml"))
json_run("unlock-no-lock", "unlock", "unlock", "0123456789abcdef", expect=1)

# --- progress on a terminal -----------------------------------------------------
# The live ELB answers OutOfService for SLOW seconds after the incoming nodes
# were registered with it, so each cutover waits that long.
SLOW = 4
registered = []


def mark_register(method, path, form):
    if form.get("Action", [""])[0] == "RegisterInstancesWithLoadBalancer" \
            and form.get("LoadBalancerName", [""])[0] == LIVE:
        registered.append(time.monotonic())
    return False


def health_late(method, path, form):
    return form.get("Action", [""])[0] == "DescribeInstanceHealth" \
        and form.get("LoadBalancerName", [""])[0] == LIVE \
        and bool(registered) and time.monotonic() - registered[-1] < SLOW


proxy = FaultProxy(w.moto.url)
proxy.rules.append(Rule(match=mark_register, times=None))
proxy.rules.append(Rule(match=health_late, times=None,
                        rewrite=lambda body: body.replace(">InService<", ">OutOfService<")))

ESC = "\x1b"


def typed_run(step, line, extra_env, marker="cutover done"):
    """Types line into a POSIX shell (dash: its prompt has no escapes) on a
    tmux terminal, records every byte the pane gets (pipe-pane) and samples
    the screen while it runs. Returns (raw bytes text, screens)."""
    env = {k: v for k, v in w.env().items() if k != "NO_COLOR"}
    env.update(AWS_ENDPOINT_URL=proxy.url, TERM="xterm", PS1="$ ", **extra_env)
    env["PATH"] = os.path.dirname(PAASCTL) + ":" + env.get("PATH", "/usr/bin:/bin")
    t = Tty(["sh"], env)
    raw = os.path.join(w.dir, f"{step}.raw")
    t._tmux("pipe-pane", "-t", "0", f"cat > {raw}")
    t.type(line, enter=True)
    screens, deadline = [], time.time() + 120
    while time.time() < deadline:
        s = t.screen()
        screens.append(s)
        if marker in s or "paasctl:" in s.split(line, 1)[-1]:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    screens.append(t.screen())
    t.stop()
    with open(raw, "rb") as f:
        return f.read().decode("utf-8", "replace"), screens


def progress_lines(screen, line):
    after = screen.split(line, 1)[-1]
    return [x for x in after.splitlines() if "InService on" in x]


cfg_arg = f"paasctl -c {cfg}"
if not shutil.which("tmux"):
    check("progress/tmux-installed", False, "scripts/deps installs tmux")
else:
    # 1. a terminal: one line, redrawn in place (with an erase sequence).
    line = f"{cfg_arg} cutover"
    raw, screens = typed_run("tty", line, {})
    final = screens[-1]
    check("tty/cutover-done", "cutover done" in final, final[-600:])
    texts = {tuple(progress_lines(s, line)) for s in screens if progress_lines(s, line)}
    check("tty/one-progress-line-at-a-time",
          texts and all(len(t) == 1 for t in texts), texts)
    check("tty/progress-line-updates", len(texts) >= 2, texts)
    check("tty/redrawn-in-place", "\r" + ESC + "[K" in raw, repr(raw[-300:]))

    # 2. NO_COLOR on a terminal: the same updating line, no escape at all.
    rc, out, err = w.paasctl("-c", cfg, "up", "b")
    check("setup/up-b", rc == 0, err[-400:])
    line = f"{cfg_arg} cutover"
    raw, screens = typed_run("no-color", line, {"NO_COLOR": "1"})
    texts = {tuple(progress_lines(s, line)) for s in screens if progress_lines(s, line)}
    check("no-color/cutover-done", "cutover done" in screens[-1], screens[-1][-600:])
    check("no-color/progress-line-updates", len(texts) >= 2 and all(len(t) == 1 for t in texts),
          texts)
    check("no-color/no-escape-sequences", ESC not in raw, repr(raw[raw.find(ESC) - 80:][:200]))

    # 3. (a back to live) a pipe: plain lines, no escape, no carriage return.
    line = f"{cfg_arg} cutover 2>&1 | cat"
    raw, screens = typed_run("pipe", line, {})
    after = raw.split("cat\r\n", 1)[-1]
    check("pipe/cutover-done", "cutover done" in after, repr(after[-400:]))
    check("pipe/no-escape-sequences", ESC not in after, repr(after[:400]))
    plain = [x for x in after.replace("\r\n", "\n").split("\n") if "InService on" in x]
    check("pipe/plain-progress-lines", len(plain) >= 2 and "\r" not in after.replace("\r\n", ""),
          repr(after[:600]))

    # 4. (b live again) -q: nothing but the result.
    line = f"{cfg_arg} -q cutover"
    raw, screens = typed_run("quiet", line, {})
    check("quiet/no-progress", not progress_lines(screens[-1], line) and "cutover done" in screens[-1],
          screens[-1][-600:])

json_run("status-after", "status", "status")
json_run("history", "history", "history", "-n", "3")
json_run("dry-run-teardown-a", "teardown", "--dry-run", "teardown", "a")
json_run("teardown-live-refused", "teardown", "teardown", "b", "--yes", expect=3)
json_run("teardown-a", "teardown", "teardown", "a", "--yes")
json_run("cutover-json", "cutover", "cutover", expect=3)
proxy.stop()
done()
