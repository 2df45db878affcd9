"""migrate a b (SPEC.md "Migration"; issue 12) between stand-in Kubernetes
API servers, with the signature-checking AWS emulator holding the lock and
the journal. Every result is checked through the real kubectl on both sides,
never through paasctl: the fixture's objects arrive equal (spec, data,
labels, annotations), the skipped ones do not, DST's own system objects are
untouched, a second run reports everything `exists`; -n, --stack, -l,
--resources, --exclude-resources, --dry-run and --update each select what
they say; CRDs come first and their custom resources only once DST reports
them Established; a type DST does not serve is reported failed; 10% of
DST's answers failing (500 or a TCP reset) changes nothing; and no Secret or
ConfigMap value appears in any output at -vvv."""

import base64
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import PAASCTL, World, check, cluster_section, done, sample_config  # noqa: E402
from schemas import problems  # noqa: E402
from standin import WIDGET_CRD as CRD, Standin, comparable, key  # noqa: E402

NAME = "mig"
SECRET_VALUE = "fixture-secret-value-7d1e0c"
CM_VALUE = "fixture-configmap-value-93ab5f"
TOKEN_VALUE = "fixture-token-value-51c2aa"

w = World()
w.moto.client("s3").create_bucket(Bucket=f"{NAME}-paasctl-state")

# SRC, and one fresh DST per scenario (each started at once, waited for below)
src = Standin(w.dir, "paas-a")
DSTS = {
    "full": ("--establish-delay-ms", "1500"),
    "dry": (), "ns": (), "stack": (), "label": (), "res": (),
    "faults": ("--fail-rate", "0.1", "--fail-modes", "500,reset", "--seed", "7"),
    "unserved": (), "relist": (),
}
dst = {k: Standin(w.dir, "paas-b", *args) for k, args in DSTS.items()}
src.wait()
for d in dst.values():
    d.wait()


def config(d, extra=""):
    """paasctl.ini with slot a = SRC and slot b = d."""
    text = (sample_config(NAME, zones=1, slots=()) +
            cluster_section("a", f"kubeconfig = {src.kubeconfig}\ncontext = paas-a\n") +
            cluster_section("b", f"kubeconfig = {d.kubeconfig}\ncontext = paas-b\n") + f"""
[migrate]
exclude_namespaces = kube-system, kube-public, kube-node-lease
exclude_resources = events, nodes
concurrency = 8
{extra}""")
    return w.write_config(text, f"migrate-{d.dir.rsplit('/', 1)[-1]}.ini")


schema_problems = []   # SPEC.md "Output": every report against docs/schema/migrate.json


def migrate(d, *args, verbose=()):
    rc, out, err = w.paasctl("-c", config(d), *verbose, "-o", "json", "migrate", "a", "b", *args)
    schema_problems.append(problems("migrate", out, rc))
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    return rc, doc, out, err


def row(doc, name):
    return next((t for t in doc.get("types", []) if t["type"] == name), {})


def b64(s):
    return base64.b64encode(s.encode()).decode()


# --- the fixture in SRC ----------------------------------------------------------------
def ns(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def meta(name, namespace=None, **extra):
    m = {"name": name, **extra}
    if namespace:
        m["namespace"] = namespace
    return m



def pod_template(app):
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": "nginx:1.27"}]}}


FIXTURE = [
    ns("shop", {"paasctl.io/stack": "shop"}), ns("shop-db", {"paasctl.io/stack": "shop"}), ns("blog"),
    CRD,
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta("fast"),
     "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta("unused"),
     "provisioner": "kubernetes.io/no-provisioner"},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("shop-reader"),
     "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("unrelated"),
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": meta("high"), "value": 1000},
    {"apiVersion": "v1", "kind": "Secret", "metadata": meta("db-pass", "shop", labels={"tier": "db"}),
     "type": "Opaque", "data": {"password": b64(SECRET_VALUE)}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("settings", "shop", annotations={"note": "kept"}),
     "data": {"mode": CM_VALUE}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("app", "shop")},
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("limits", "shop"),
     "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]}},
    {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("quota", "shop"),
     "spec": {"hard": {"pods": "20"}}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("editor", "shop"),
     "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("readers", "shop"),
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "shop-reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "shop"}]},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("deny", "shop"),
     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data", "shop"),
     "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
              "resources": {"requests": {"storage": "1Gi"}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": meta("web", "shop"),
     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web", "shop"),
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template("web")}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("nightly", "shop"),
     "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {
         "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "job", "image": "busybox"}]}}}}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web", "shop"),
     "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [{
         "path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("web", "shop"),
     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}},
    {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("gear", "shop"), "spec": {"size": 3}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("schema", "shop-db"), "data": {"v": "2"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("blog-cfg", "blog", labels={"tier": "web"}),
     "data": {"theme": "dark"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": meta("blog-key", "blog"), "data": {"k": b64("v")}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("blog", "blog"),
     "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "blog"}}, "template": pod_template("blog")}},
]
# Skipped objects (SPEC.md "skipped objects"), each to be absent from DST.
SKIPPED = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("leak", "kube-system"), "data": {"x": "y"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": meta("app-token", "shop", annotations={
        "kubernetes.io/service-account.name": "app"}),
     "type": "kubernetes.io/service-account-token", "data": {"token": b64(TOKEN_VALUE)}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta("system:custom"),
     "rules": []},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
     "metadata": meta("boot-role", labels={"kubernetes.io/bootstrapping": "rbac-defaults"}), "rules": []},
]
for obj in FIXTURE + SKIPPED:
    src.create(obj)
cron = src.call("GET", "/apis/batch/v1/namespaces/shop/cronjobs/nightly")[1]
src.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("nightly-1", "shop", ownerReferences=[{
    "apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": cron["metadata"]["uid"],
    "controller": True}]),
    "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": "busybox"}]}}}})
SKIPPED_NAMES = {("ConfigMap", "kube-system", "leak"), ("Secret", "shop", "app-token"),
                 ("ClusterRole", "", "system:custom"), ("ClusterRole", "", "boot-role"),
                 ("Job", "shop", "nightly-1")}
src.call("POST", "/_standin/settle", {})

TYPES = ("namespaces,secrets,configmaps,serviceaccounts,limitranges,resourcequotas,roles,rolebindings,"
         "clusterroles,networkpolicies,persistentvolumeclaims,services,deployments,cronjobs,jobs,ingresses,"
         "poddisruptionbudgets,storageclasses,priorityclasses,customresourcedefinitions")


def objects(side, types=TYPES):
    """Objects by (kind, namespace, name), the custom ones too once served."""
    found = {key(o): o for o in side.get_json(types)}
    if types == TYPES and side.kubectl("get", "widgets", "-A")[0] == 0:
        found.update({key(o): o for o in side.get_json("widgets")})
    return found


def fixture_keys(names=None):
    keys = [key(o) for o in FIXTURE]
    return [k for k in keys if names is None or k in names]


def compare(case, d, want_keys):
    """want_keys are in d, equal to SRC; returns d's objects."""
    a, b = objects(src), objects(d)
    missing = [k for k in want_keys if k not in b]
    differ = [k for k in want_keys if k in b and comparable(a[k]) != comparable(b[k])]
    check(f"{case}/fixture-objects-in-dst", not missing, missing)
    check(f"{case}/equal-spec-data-labels-annotations", not differ,
          [(k, comparable(a[k]), comparable(b[k])) for k in differ[:2]])
    return b


def absent(case, b, keys):
    there = [k for k in keys if k in b]
    check(case, not there, there)


# DST's own system objects before any migration, to see them untouched.
SYSTEM = ("serviceaccounts/default -n default", "configmaps/kube-root-ca.crt -n default",
          "services/kubernetes -n default", "clusterroles/system:node", "clusterroles/cluster-admin",
          "priorityclasses/system-cluster-critical")


def system_versions(d):
    out = {}
    for s in SYSTEM:
        what, *ns_args = s.split()
        rc, text, _ = d.kubectl("get", what, *ns_args, "-o", "json")
        o = json.loads(text) if rc == 0 else {}
        out[s] = (o.get("metadata", {}).get("uid"), o.get("metadata", {}).get("resourceVersion"))
    return out


# --- 1. everything, at -vvv, CRD Established late; then again; then --update ---------------------
full = dst["full"]
before = system_versions(full)
rc, doc, out, err = migrate(full, verbose=("-vvv",))
check("full/exit-0", rc == 0, f"rc={rc} err={err[-1500:]!r}")
check("full/no-failures", doc.get("totals", {}).get("failed") == 0 and not doc.get("failures"),
      doc.get("failures"))
b = compare("full", full, fixture_keys())
absent("full/skipped-objects-not-created", b, SKIPPED_NAMES)
check("full/dst-system-objects-untouched", system_versions(full) == before,
      (before, system_versions(full)))
pods = [p for p in full.get_json("pods", "-n", "shop") if p["metadata"]["namespace"] == "shop"]
check("full/controller-owned-pods-not-copied", len(pods) == 2, [p["metadata"]["name"] for p in pods])
check("full/skips-counted-with-reason",
      row(doc, "pods").get("skip_reasons", {}).get("owned by a controller", 0) >= 3 and
      row(doc, "secrets").get("skip_reasons", {}).get("service-account token") == 1 and
      row(doc, "jobs.batch").get("skip_reasons", {}).get("owned by a cronjob") == 1 and
      row(doc, "configmaps").get("skip_reasons", {}).get("excluded namespace", 0) >= 1 and
      row(doc, "clusterroles.rbac.authorization.k8s.io").get("skip_reasons", {}).get(
          "system object (kubernetes.io/bootstrapping)", 0) >= 1,
      json.dumps([row(doc, n).get("skip_reasons") for n in ("pods", "secrets", "jobs.batch", "configmaps",
                                                              "clusterroles.rbac.authorization.k8s.io")]))
check("full/skipped-kinds-listed", {"events", "nodes", "endpoints"} <=
      {t["type"] for t in doc.get("skipped_types", [])}, doc.get("skipped_types"))
order = [t["type"] for t in doc.get("types", [])]
check("full/order-crds-first-custom-resources-last",
      order[:2] == ["customresourcedefinitions.apiextensions.k8s.io", "namespaces"] and
      order[-1] == "widgets.example.com" and order.index("secrets") < order.index("deployments.apps"), order)
check("full/custom-resource-after-established", row(doc, "widgets.example.com").get("created") == 1 and
      ("Widget", "shop", "gear") in b, row(doc, "widgets.example.com"))
leaks = [v for v in (SECRET_VALUE, b64(SECRET_VALUE), CM_VALUE, TOKEN_VALUE, b64(TOKEN_VALUE)) if v in out + err]
check("full/vvv-output-has-no-secret-or-configmap-value", not leaks and "k8s POST" in err, leaks)
created_first = doc.get("totals", {}).get("created")
existed_first = doc.get("totals", {}).get("exists")   # DST's own default namespace

rc, doc2, out, err = migrate(full)
t2 = doc2.get("totals", {})
check("again/creates-nothing-everything-exists", rc == 0 and t2.get("created") == 0 and
      t2.get("exists") == created_first + existed_first and t2.get("failed") == 0,
      f"rc={rc} {t2} first={created_first}+{existed_first}")

src.call("PUT", "/api/v1/namespaces/shop/configmaps/settings", {
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop",
                                                           "labels": {"changed": "yes"}},
    "data": {"mode": "changed"}})
rc, doc3, out, err = migrate(full, "--update", "--resources", "configmaps", "-n", "shop")
got = objects(full, "configmaps")[("ConfigMap", "shop", "settings")]
check("update/replaces-with-source-version", rc == 0 and row(doc3, "configmaps").get("updated") == 1 and
      got["data"] == {"mode": "changed"} and got["metadata"]["labels"] == {"changed": "yes"},
      f"rc={rc} {row(doc3, 'configmaps')} {got.get('data')}")
rc, doc4, out, err = migrate(full, "--resources", "configmaps", "-n", "shop")
check("update/without-flag-exists-untouched", rc == 0 and row(doc4, "configmaps").get("exists") == 1 and
      row(doc4, "configmaps").get("updated") == 0, row(doc4, "configmaps"))

# --- 2. --dry-run: DST validates, stores nothing, same counts -----------------------------------
def journal_count():
    listed = w.moto.client("s3").list_objects_v2(Bucket=f"{NAME}-paasctl-state").get("Contents", [])
    return sum(1 for o in listed if o["Key"].startswith(f"{NAME}/journal/"))


dry = dst["dry"]
journal_before = journal_count()
rv = dry.resource_version()
dry.call("DELETE", "/_standin/requests")
rc, out, err = w.paasctl("-c", config(dry), "-o", "json", "--dry-run", "migrate", "a", "b")
ddoc = json.loads(out) if out.strip() else {}
check("dry-run/exit-0-same-counts", rc == 0 and ddoc.get("dry_run") is True and
      ddoc.get("totals", {}).get("created") == created_first, f"rc={rc} {ddoc.get('totals')} {err[-800:]!r}")
reqs = dry.requests()["recent"]
writes = [r for r in reqs if r["method"] in ("POST", "PUT", "PATCH", "DELETE") and
          not r["path"].startswith("/_standin")]
check("dry-run/every-write-says-dryRun-All", writes and all("dryRun=All" in r["query"] for r in writes),
      [r for r in writes if "dryRun=All" not in r["query"]][:3])
check("dry-run/dst-unchanged", dry.resource_version() == rv and
      "shop" not in dry.kubectl("get", "ns", "-o", "name")[1], f"rv {rv} -> {dry.resource_version()}")
check("dry-run/no-journal-record", journal_count() == journal_before,
      f"{journal_before} -> {journal_count()}")

# --- 3. -n and --stack: those namespaces and the cluster objects they need -----------------------
NEEDS = {("ClusterRole", "", "shop-reader"), ("StorageClass", "", "fast"),
         ("CustomResourceDefinition", "", "widgets.example.com")}
NOT_NEEDED = {("ClusterRole", "", "unrelated"), ("StorageClass", "", "unused"), ("PriorityClass", "", "high")}
rc, ndoc, out, err = migrate(dst["ns"], "-n", "shop")
shop_keys = [k for k in fixture_keys() if k[1] == "shop" or k == ("Namespace", "", "shop")]
b = compare("namespace", dst["ns"], shop_keys + sorted(NEEDS))
check("namespace/exit-0", rc == 0, f"rc={rc} {err[-800:]!r}")
absent("namespace/nothing-else", b, [k for k in fixture_keys() if k[1] in ("blog", "shop-db")] +
       [("Namespace", "", "blog"), ("Namespace", "", "shop-db")] + sorted(NOT_NEEDED))

rc, sdoc, out, err = migrate(dst["stack"], "--stack", "shop")
stack_keys = [k for k in fixture_keys() if k[1] in ("shop", "shop-db") or
              k in (("Namespace", "", "shop"), ("Namespace", "", "shop-db"))]
b = compare("stack", dst["stack"], stack_keys + sorted(NEEDS))
check("stack/exit-0", rc == 0, f"rc={rc} {err[-800:]!r}")
absent("stack/not-other-namespaces", b, [k for k in fixture_keys() if k[1] == "blog"] +
       [("Namespace", "", "blog")] + sorted(NOT_NEEDED))

# --- 4. -l: objects by label across namespaces, their namespaces along ----------------------------
rc, ldoc, out, err = migrate(dst["label"], "-l", "tier=web")
b = compare("label", dst["label"], [("ConfigMap", "blog", "blog-cfg"), ("Namespace", "", "blog")])
check("label/exit-0", rc == 0, f"rc={rc} {err[-800:]!r}")
absent("label/unlabelled-not-copied", b, [("Secret", "blog", "blog-key"), ("Deployment", "blog", "blog"),
                                           ("Secret", "shop", "db-pass"), ("Namespace", "", "shop")])

# --- 5. --resources, then --exclude-resources on the same DST ------------------------------------
res = dst["res"]
rc, rdoc, out, err = migrate(res, "--resources", "configmaps")
b = objects(res)
cms = [k for k in fixture_keys() if k[0] == "ConfigMap"]
check("resources/only-those-types", rc == 0 and all(k in b for k in cms) and
      not [k for k in fixture_keys() if k[0] not in ("ConfigMap", "Namespace") and k in b] and
      {t["type"] for t in rdoc.get("types", [])} <= {"configmaps", "namespaces"},
      f"rc={rc} {[t['type'] for t in rdoc.get('types', [])]}")
rc, xdoc, out, err = migrate(res, "--exclude-resources", "configmaps,Deployment")
b = objects(res)
check("exclude-resources/not-those-types", rc == 0 and ("Secret", "shop", "db-pass") in b and
      ("Deployment", "shop", "web") not in b and not row(xdoc, "configmaps") and
      not row(xdoc, "deployments.apps"), f"rc={rc} {[t['type'] for t in xdoc.get('types', [])]}")

# --- 6. 10% of DST's answers fail (500 or TCP reset): everything still arrives -------------------
rc, fdoc, out, err = migrate(dst["faults"])
check("faults/exit-0-none-failed", rc == 0 and fdoc.get("totals", {}).get("failed") == 0,
      f"rc={rc} {fdoc.get('failures')} {err[-800:]!r}")
faults = dst["faults"].requests()
check("faults/500s-and-resets-were-injected", faults["byVerb"].get("fault", 0) >= 5 and
      faults["byCode"].get("-1", 0) >= 1 and faults["byCode"].get("500", 0) >= 1, faults["byCode"])
dst["faults"].call("POST", "/_standin/faults", {"failRate": 0})
compare("faults", dst["faults"], fixture_keys())

# --- 7. a type DST does not serve: reported, not dropped ------------------------------------------
old = json.loads(json.dumps(CRD))
old["metadata"]["name"] = "gadgets.example.com"
old["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"}
new = json.loads(json.dumps(old))
new["spec"]["versions"][0]["name"] = "v2"
src.create(old)
dst["unserved"].create(new)           # DST's newer release serves only v2
src.call("POST", "/_standin/settle", {})
dst["unserved"].call("POST", "/_standin/settle", {})
src.create({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": meta("g1", "shop"), "spec": {}})
rc, udoc, out, err = migrate(dst["unserved"])
fails = udoc.get("failures", [])
check("unserved/exit-1", rc == 1, f"rc={rc}")
check("unserved/reported-per-type", any(f["type"] == "gadgets.example.com" and
                                        "DST does not serve example.com/v1 Gadget" in f["reason"]
                                        for f in fails) and row(udoc, "gadgets.example.com").get("failed") == 1,
      fails)
check("unserved/others-still-migrated", udoc.get("totals", {}).get("failed") == 1 and
      ("Widget", "shop", "gear") in objects(dst["unserved"]), udoc.get("totals"))
rc, out, err = w.paasctl("-c", config(dst["unserved"]), "migrate", "a", "b")
check("unserved/table-names-the-failure", rc == 1 and "FAILED gadgets.example.com" in out and
      "DST does not serve" in out and "TYPE" in out, out[-600:])

# --- 8. a continue token that expires mid-type (410): the type is listed again, counted once ----------
src.create(ns("bulk"))
BULK = 1200   # three pages of 500
with ThreadPoolExecutor(8) as pool:
    list(pool.map(src.create, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"cm-{i}", "bulk"),
                                "data": {"i": str(i)}} for i in range(BULK)]))
want_cms = [o for o in src.get_json("configmaps") if o["metadata"]["namespace"] not in
            ("kube-system", "kube-public", "kube-node-lease") and o["metadata"]["name"] != "kube-root-ca.crt"]
src.call("DELETE", "/_standin/requests")
src.call("POST", "/_standin/faults", {"latencyMs": 400})   # time to compact between two pages
proc = subprocess.Popen([PAASCTL,
                         "-c", config(dst["relist"]), "-o", "json", "migrate", "a", "b", "--resources", "configmaps"],
                        env=w.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_page_served():
    return any(r["path"] == "/api/v1/configmaps" and "limit=500" in r["query"] and "continue" not in r["query"]
               and r["code"] == 200 for r in src.requests()["recent"])


deadline = time.time() + 60
while not first_page_served() and time.time() < deadline and proc.poll() is None:
    time.sleep(0.02)
src.call("POST", "/_standin/compact", {})
# a write after the compaction, so that a new list is not itself too old
src.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("after-compact", "kube-system")})
out, err = proc.communicate(timeout=300)
src.call("POST", "/_standin/faults", {"latencyMs": 0})
rdoc = json.loads(out) if out.strip() else {}
expired = [r for r in src.requests()["recent"] if r["code"] == 410 and r["path"] == "/api/v1/configmaps"]
check("relist/continue-token-expired-mid-type", expired, "no 410: the compaction came too late")
check("relist/exit-0-each-object-counted-once", proc.returncode == 0 and
      row(rdoc, "configmaps").get("created") == len(want_cms) and row(rdoc, "configmaps").get("exists") == 0,
      f"rc={proc.returncode} {row(rdoc, 'configmaps')} want {len(want_cms)} {err[-600:]!r}")
got = objects(dst["relist"], "configmaps")
check("relist/every-object-in-dst", all(key(o) in got for o in want_cms),
      [key(o) for o in want_cms if key(o) not in got][:3])

# --- usage -------------------------------------------------------------------------------------------
rc, out, err = w.paasctl("-c", config(full), "migrate", "a")
check("usage/one-slot-exit-2", rc == 2, f"rc={rc} {err!r}")
rc, out, err = w.paasctl("-c", config(full), "migrate", "a", "a")
check("usage/same-slot-exit-2", rc == 2, f"rc={rc} {err!r}")
check("output/every-json-report-matches-schema", schema_problems and not any(schema_problems),
      [x for x in schema_problems if x][:3])
done()
