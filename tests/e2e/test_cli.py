"""The command-line surface (SPEC.md "Commands", "Exit codes"): help for the
tool and each command, --version with the linked libraries, usage errors and
configuration errors as exit 2 with file:line. Needs no server."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, check, done, sample_config  # noqa: E402

tmp = tempfile.mkdtemp(prefix="paasctl-cli-")
env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAASCTL_"))}
env.update(HOME=tmp, AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
           AWS_SECRET_ACCESS_KEY="secret", AWS_ENDPOINT_URL="http://127.0.0.1:9")


def run(*args, cwd=tmp):
    p = subprocess.run([PAASCTL, *args], env=env, capture_output=True, text=True,
                       timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


rc, out, err = run("--help")
check("help/exit-0", rc == 0, err)
commands = re.findall(r"^  (\w+)\s{2,}", out.split("Commands:")[1].split("Options")[0], re.M)
check("help/lists-commands", "status" in commands and "version" in commands, out)
for c in commands:
    rc, out, err = run(c, "--help")
    check(f"help/{c}/exit-0-and-usage", rc == 0 and out.startswith(f"usage: paasctl [options] {c}"),
          f"rc={rc} out={out!r}")
rc, out, err = run("-h", "status")
check("help/before-command", rc == 0 and "status [--check]" in out, out)

rc, out, err = run("--version")
check("version/exit-0", rc == 0, err)
for lib in ("libcurl", "OpenSSL", "libxml2", "jansson", "libyaml"):
    check(f"version/names-{lib}", re.search(rf"^\s+{lib}\s+\S*\d", out, re.M) is not None, out)
rc, out2, err = run("version")
check("version/command-same-as-flag", rc == 0 and out2 == out, out2)

rc, out, err = run()
check("usage/no-command-exit-2", rc == 2 and "usage:" in err, f"rc={rc}")
rc, out, err = run("frobnicate")
check("usage/unknown-command-exit-2", rc == 2 and "unknown command 'frobnicate'" in err, err)
rc, out, err = run("-o", "yaml", "status")
check("usage/bad-output-exit-2", rc == 2 and "yaml" in err, err)
rc, out, err = run("-c")
check("usage/option-missing-value-exit-2", rc == 2, err)

# Configuration errors: exit 2, file:line, before any AWS call.
rc, out, err = run("status")
check("config/missing-default-file-exit-2", rc == 2 and "paasctl.ini" in err, err)
good = sample_config()
cases = {
    "unknown-key": (good.replace("[shell]\n", "[shell]\nvpc_cdir = 10.0.0.0/16\n"), r":\d+: .*unknown key 'vpc_cdir'"),
    "bad-cidr": (good.replace("10.0.0.0/16", "10.0.0.300/16"), r":\d+: .*vpc_cidr"),
    "subnet-count": (good.replace("private_subnets = 10.0.16.0/20, 10.0.32.0/20", "private_subnets = 10.0.16.0/20"),
                     r":\d+: .*private_subnets"),
    "bad-name": (good.replace("name = demo", "name = Demo_1"), r":\d+: .*name"),
    "non-numeric-count": (good.replace("minion_count  = 3", "minion_count  = three", 1), r":\d+: .*minion_count"),
    "missing-section": (good.split("[shell]")[0], r"\[shell\]"),
}
for name, (text, pattern) in cases.items():
    path = os.path.join(tmp, f"{name}.ini")
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = run("-c", path, "status")
    check(f"config/{name}/exit-2-with-file-line", rc == 2 and path in err and re.search(pattern, err),
          f"rc={rc} err={err!r}")
env["PAASCTL_CONFIG"] = os.path.join(tmp, "bad-name.ini")
rc, out, err = run("status")
check("config/PAASCTL_CONFIG-is-read", rc == 2 and "bad-name.ini" in err, err)
del env["PAASCTL_CONFIG"]
# A failed write on stdout (a full disk here) is a failed run: scripts that
# read `-o json` must not take a cut document for a whole one.
with open("/dev/full", "w") as full:
    p = subprocess.run([PAASCTL, "version"], env=env, stdout=full, stderr=subprocess.PIPE,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
check("output/write-error-exit-1", p.returncode == 1 and "standard output" in p.stderr,
      f"rc={p.returncode} {p.stderr!r}")
# The sanitizer safety net: a leak in a run that exits 1 must not pass as
# that expected failure (tests/run sets exitcode=86 for ASan and UBSan).
probe_dir = os.environ.get("PROBE_DIR", "")
leak = os.path.join(probe_dir, "leak_probe")
if probe_dir and os.path.exists(leak):
    p = subprocess.run([leak], capture_output=True, text=True, timeout=60)
    check("sanitizer/leak-exits-86", p.returncode == 86 and "LeakSanitizer" in p.stderr,
          f"rc={p.returncode} {p.stderr[-300:]!r}")
else:
    check("sanitizer/leak-probe-built", False, f"no {leak}: run through make check")
done()
