"""What is generated from the dispatch table (SPEC.md "Commands"): help
with an example for every command, did-you-mean for mistyped commands and
options, JSON errors, the man page (checked-in copy equal to `paasctl
--man`, rendered by man(1) without warnings, naming every command of
--help) and the bash and zsh completions (checked-in copies equal to the
generated ones; loaded in a real shell in tmux, `paasctl up <TAB>` offers
shell a b). Needs no server."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, ROOT, check, done  # noqa: E402
from terminal import Tty  # noqa: E402

tmp = tempfile.mkdtemp(prefix="paasctl-gen-")
env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAASCTL_"))}
env.update(HOME=tmp)


def run(*args, extra_env=None):
    p = subprocess.run([PAASCTL, *args], env={**env, **(extra_env or {})}, capture_output=True,
                       text=True, timeout=60, cwd=tmp, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


rc, out, _ = run("--help")
commands = re.findall(r"^  ([\w-]+)\s{2,}", out.split("Commands:")[1].split("Options")[0], re.M)
check("help/lists-commands", {"cutover", "migrate", "consul-sync", "kubeconfig", "help"} <= set(commands),
      commands)
for c in commands:
    rc1, h1, _ = run("help", c)
    rc2, h2, _ = run(c, "--help")
    example = h1.split("\nExample:\n")[1] if "\nExample:\n" in h1 else ""
    check(f"help/{c}/example", rc1 == 0 and re.match(r"  paasctl ", example), h1)
    check(f"help/{c}/same-as---help", rc2 == 0 and h1 == h2, f"{h1!r} vs {h2!r}")

# Did you mean: commands, a command's own options, global options.
typos = [(("cutovr",), "unknown command 'cutovr' \u2014 did you mean 'cutover'?"),
         (("status", "--chek"), "status: unknown option '--chek' \u2014 did you mean '--check'?"),
         (("migrate", "a", "b", "--stak", "x"), "did you mean '--stack'?"),
         (("kubeconfig", "a", "--mrege"), "did you mean '--merge'?"),
         (("--verison",), "unknown option '--verison' \u2014 did you mean '--version'?"),
         (("status", "--dry-rn"), "did you mean '--dry-run'?"),
         (("help", "rolback"), "did you mean 'rollback'?")]
for args, want in typos:
    rc, out, err = run(*args)
    check(f"typo/{'-'.join(args)}", rc == 2 and want in err, f"rc={rc} err={err!r}")
rc, out, err = run("frobnicate")
check("typo/far-off-no-suggestion", rc == 2 and "did you mean" not in err, err)
rc, out, err = run("history", "-n", "-3")
check("typo/option-value-not-an-option", "unknown option" not in err, err)

# JSON mode: the error is the one document on stdout, the exit code unchanged.
rc, out, err = run("-o", "json", "cutovr")
try:
    doc = json.loads(out)
except ValueError:
    doc = None
check("json-error/usage", rc == 2 and doc and doc["error"]["exit"] == 2
      and doc["error"]["kind"] == "usage" and "cutover" in doc["error"]["message"], out)
rc, out, err = run("-o", "json", "status", extra_env={"PAASCTL_CONFIG": os.path.join(tmp, "none.ini")})
check("json-error/config", rc == 2 and json.loads(out)["error"]["exit"] == 2, out)

# Checked-in generated files equal what the table gives.
for path, args in (("man/paasctl.1", ("--man",)),
                   ("scripts/completion/paasctl.bash", ("--completion", "bash")),
                   ("scripts/completion/_paasctl", ("--completion", "zsh"))):
    rc, out, err = run(*args)
    with open(os.path.join(ROOT, path)) as f:
        kept = f.read()
    check(f"generated/{path}-up-to-date", rc == 0 and out == kept,
          "differs from the dispatch table: run `make generated` and commit")

# man(1) renders the page without a warning, every command in it.
man_env = {**env, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"}


def man(path):
    p = subprocess.run(["man", "--warnings", "-l", path], env=man_env, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, re.sub(r".\x08", "", p.stdout), p.stderr


rc, text, err = man(os.path.join(ROOT, "man/paasctl.1"))
check("man/renders-without-warnings", rc == 0 and err == "" and "SYNOPSIS" in text, err)
# The warning check can fail: a page with an unknown request does warn.
broken = os.path.join(tmp, "broken.1")
with open(broken, "w") as f:
    f.write(open(os.path.join(ROOT, "man/paasctl.1")).read() + ".frobnicate\n\\*[nosuch]\n")
check("man/warnings-are-seen", man(broken)[2] != "", "man --warnings printed nothing for a broken page")
for c in commands:
    check(f"man/has-{c}", re.search(rf"^   {re.escape(c)}$", text, re.M), "")

# Completion in real shells on a terminal.
comp = os.path.join(ROOT, "scripts/completion")
shell_env = {"PATH": env.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "TERM": "xterm",
             "LANG": "C.UTF-8", "PS1": "$ ", "PROMPT": "$ "}


def tab_words(screen, line):
    """The words the shell listed below the typed line."""
    after = screen.split(line, 1)[1] if line in screen else ""
    return sorted(set(re.findall(r"\S+", after.split("$ ")[0])))


if shutil.which("tmux") and shutil.which("bash"):
    t = Tty(["bash", "--norc", "--noprofile"], shell_env)
    t.type(f"source {comp}/paasctl.bash; echo loaded:$?", enter=True)
    s = t.wait_for("loaded:0", 60) or t.screen()
    check("bash/loads", "loaded:0" in s and "error" not in s.lower(), s)
    t.type("paasctl up ")
    t.key("Tab")
    t.key("Tab")
    s = t.wait_for("shell", 10) or t.screen()
    check("bash/up-TAB-is-shell-a-b", tab_words(s, "paasctl up") == ["a", "b", "shell"], s)
    t.key("C-c")
    t.type("paasctl migrate a b --st")
    t.key("Tab")
    s = t.wait_for("--stack", 10) or t.screen()
    check("bash/option-completes", "paasctl migrate a b --stack" in s, s)
    t.key("C-c")
    t.type("paasctl -o ")
    t.key("Tab")
    t.key("Tab")
    s = t.wait_for("table", 10) or t.screen()
    check("bash/output-values", "json" in s and "table" in s, s)
    t.stop()
else:
    check("bash/tmux-and-bash-installed", False, "scripts/deps installs tmux")

if shutil.which("tmux") and shutil.which("zsh"):
    t = Tty(["zsh", "-f"], shell_env)
    t.type(f"PS1='$ '; fpath=({comp} $fpath); autoload -Uz compinit; compinit -u -D; echo loaded:$?",
           enter=True)
    s = t.wait_for("loaded:0", 60) or t.screen()
    check("zsh/loads", "loaded:0" in s and "error" not in s.lower() and "not found" not in s, s)
    t.type("paasctl up ")
    t.key("Tab")
    s = t.wait_for("shell", 10) or t.screen()
    check("zsh/up-TAB-is-shell-a-b", tab_words(s, "paasctl up") == ["a", "b", "shell"], s)
    t.key("C-c")
    t.type("paasctl cuto")
    t.key("Tab")
    s = t.wait_for("cutover", 10) or t.screen()
    check("zsh/command-completes", "paasctl cutover" in s, s)
    t.stop()
else:
    check("zsh/tmux-and-zsh-installed", False, "scripts/deps installs zsh and tmux")

shutil.rmtree(tmp, True)
done()
