"""The build as a packager meets it (issue "one engine ... a build a
packager would accept"): plain `make` on a fresh tree builds ./paasctl and
nothing else; touching one header rebuilds only the objects that include
it; `make install DESTDIR=... PREFIX=/usr` installs the binary;
CPPFLAGS/LDFLAGS reach the command lines. Works on a copy of the tracked
files (timestamps kept) with `make -n`, reusing the release objects that
`make check` built, so it compiles nothing itself."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, check, done  # noqa: E402

tmp = tempfile.mkdtemp(prefix="paasctl-build-")
fresh, built = os.path.join(tmp, "fresh"), os.path.join(tmp, "built")
files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True,
                       check=True).stdout.decode().split("\0")
for dest in (fresh, built):
    for f in filter(None, files):
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f))


def make(where, *args):
    p = subprocess.run(["make", "-n", *args], cwd=where, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


# A fresh tree: plain `make` compiles release objects and links ./paasctl, nothing else.
rc, out, err = make(fresh)
cmds = [line for line in out.splitlines() if line.startswith(("cc ", "gcc ", "clang "))]
outputs = [m.group(1) for c in cmds for m in [re.search(r" -o (\S+)", c)] if m]
check("make/fresh-builds-only-paasctl", rc == 0 and outputs and outputs[-1] == "paasctl" and
      all(o == "paasctl" or o.startswith("build/rel/") for o in outputs) and
      not any("fuzz" in o or "build/test" in o for o in outputs),
      f"rc={rc} {err[-300:]} outputs={outputs[-5:]}")

# CPPFLAGS and LDFLAGS are honoured.
rc, out, err = make(fresh, "CPPFLAGS=-DPACKAGER_CPP", "LDFLAGS=-Wl,--packager-ld")
check("make/cppflags-ldflags", "-DPACKAGER_CPP" in out and "-Wl,--packager-ld" in out, out[-400:])

# With the release objects of this tree (and their .d files): up to date;
# touching aws/route53.h rebuilds exactly the objects whose .d names it.
rel = os.path.join(ROOT, "build", "rel")
if os.path.isdir(rel) and os.path.exists(os.path.join(ROOT, "paasctl")):
    shutil.copytree(rel, os.path.join(built, "build", "rel"), copy_function=shutil.copy2)
    shutil.copy2(os.path.join(ROOT, "paasctl"), os.path.join(built, "paasctl"))
    rc, out, err = make(built)
    check("make/up-to-date-does-nothing", rc == 0 and " -o " not in out, out[-400:])
    includers = sorted(os.path.relpath(os.path.join(d, f), built)[:-2] + ".o"
                       for d, _, fs in os.walk(os.path.join(built, "build", "rel")) for f in fs
                       if f.endswith(".d") and "aws/route53.h" in open(os.path.join(d, f)).read())
    objects = [f for _, _, fs in os.walk(os.path.join(built, "build", "rel")) for f in fs
               if f.endswith(".o")]
    os.utime(os.path.join(built, "aws", "route53.h"))
    rc, out, err = make(built)
    rebuilt = sorted(m.group(1) for m in re.finditer(r" -o (build/rel/\S+\.o)", out))
    check("make/header-rebuilds-only-includers", rc == 0 and rebuilt == includers and
          0 < len(rebuilt) < len(objects) // 2,
          f"rebuilt {rebuilt} includers {includers} of {len(objects)} objects")
    stage = os.path.join(tmp, "stage")
    p = subprocess.run(["make", "install", f"DESTDIR={stage}", "PREFIX=/usr"], cwd=built,
                       capture_output=True, text=True, timeout=300)
    binary = os.path.join(stage, "usr", "bin", "paasctl")
    v = subprocess.run([binary, "version"], capture_output=True, text=True) if os.path.exists(binary) else None
    check("make/install-destdir-prefix", p.returncode == 0 and v is not None and v.returncode == 0 and
          "paasctl" in v.stdout, f"{p.returncode} {p.stderr[-300:]}")
else:
    check("make/release-build-present", False, "run through `make check`, which builds ./paasctl first")
# The rules a grep must show: one curl multi loop (core/http.c), and no
# environment or wall-clock read below cmd/ outside core/env.c.
def grep(pattern, dirs):
    hits = []
    for d in dirs:
        for dirpath, _, names in os.walk(os.path.join(ROOT, d)):
            for n in names:
                if n.endswith((".c", ".h")):
                    path = os.path.join(dirpath, n)
                    for lineno, line in enumerate(open(path, errors="replace"), 1):
                        if re.search(pattern, line):
                            hits.append(f"{os.path.relpath(path, ROOT)}:{lineno}")
    return hits


LOWER = ["core", "aws", "k8s", "consul", "run", "plans"]
loops = grep(r"curl_multi_perform|curl_multi_poll|curl_multi_wait|curl_easy_perform", LOWER + ["cmd"])
check("rules/one-curl-multi-loop", loops and all(h.startswith("core/http.c:") for h in loops), loops)
hidden = [h for h in grep(r"\bgetenv\(|\btime\(NULL\)|CLOCK_REALTIME", LOWER)
          if not h.startswith("core/env.c:")]
check("rules/no-hidden-inputs-below-cmd", hidden == [], hidden)
shutil.rmtree(tmp, True)
done()
