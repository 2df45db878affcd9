"""Stand-in Kubernetes API server used by paasctl's end-to-end tests.

The entry point is tests/kube/apiserver.py; this package holds its parts:
certs (PKI + kubeconfig), resources (discovery and OpenAPI from
shared/testdata/k8s), store (objects, resourceVersions, watch), patch
(merge / JSON / strategic merge), admission (defaults and validation),
tables (server-side printing for kubectl get), controllers (what a cluster
does by itself) and http (the request handler).
"""
