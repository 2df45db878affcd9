"""Drives paasctl through the A/B cycle of SPEC.md against moto on loopback,
printing each command and its output, so an operator can see what the tool
does before pointing it at a real account."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import harness  # noqa: E402

harness.PAASCTL = os.environ.get("PAASCTL") or os.path.join(harness.ROOT, "paasctl")


def step(w, cfg, *args, expect=0):
    print(f"\n$ paasctl {' '.join(args)}", flush=True)
    rc, out, err = w.paasctl("-c", cfg, *args)
    sys.stdout.write(out)
    sys.stdout.write(err)
    if rc != expect:
        print(f"demo: 'paasctl {' '.join(args)}' exited {rc}, expected {expect}", file=sys.stderr)
        harness.stop_all()
        sys.exit(1)
    return out


def main():
    w = harness.World()
    cfg = w.write_config(harness.sample_config("demo"))
    print(f"AWS emulator (signature checking on): {w.moto.url}; config: {cfg}")
    step(w, cfg, "--help")
    step(w, cfg, "status")
    help_text = w.paasctl("--help")[1]
    if " up " not in help_text:
        print("\n(the lifecycle commands are not built yet; the demo stops here)")
        return
    for args, expect in [
            (("plan", "shell"), 0), (("up", "shell"), 0), (("up", "a"), 0),
            (("cutover",), 0), (("up", "b"), 0), (("status",), 0), (("cutover",), 0),
            (("rollback",), 0), (("cutover",), 0), (("teardown", "a", "--yes"), 0),
            (("status",), 0), (("history",), 0)]:
        step(w, cfg, *args, expect=expect)
    print("\ndemo: the whole A/B cycle ran")


if __name__ == "__main__":
    try:
        main()
    finally:
        harness.stop_all()
