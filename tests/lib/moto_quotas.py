"""moto_server with EC2's quotas in Service Quotas.

moto 5.2.1 serves GetServiceQuota only for the "vpc" service code, so
paasctl's pre-flight (README "Pre-flight") could not read EC2's vCPU and
Elastic IP quotas from it. This starts the same moto_server, in the same
process, with its Service Quotas backend also answering service code "ec2"
from a JSON file the test writes (PAASCTL_TEST_QUOTAS, read on every call,
so a test changes quotas while the server runs):

    {"L-1216C47A": 64, "L-0263D0A3": 5,
     "default_only": ["L-0263D0A3"],   # GetServiceQuota: NoSuchResource;
                                       # GetAWSDefaultServiceQuota answers
     "deny": false}                    # true: AccessDeniedException

Requests still go through moto's request handling, signature check
included; only the quota values come from the file."""

import json
import os
import sys

from moto.core.exceptions import JsonRESTError
from moto.server import main
from moto.servicequotas import models, responses
from moto.servicequotas.exceptions import NoSuchResource

NAMES = {
    "L-1216C47A": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    "L-0263D0A3": "EC2-VPC Elastic IPs",
}


def _quotas():
    path = os.environ.get("PAASCTL_TEST_QUOTAS")
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def _quota(code, q):
    return {"ServiceCode": "ec2", "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
            "QuotaArn": f"arn:aws:servicequotas:us-east-1::ec2/{code}",
            "QuotaCode": code, "QuotaName": NAMES.get(code, code),
            "Value": float(q[code]), "Unit": "None", "Adjustable": True, "GlobalQuota": False}


def _ec2(code, applied):
    q = _quotas()
    if q is None:
        return None
    if q.get("deny"):
        raise JsonRESTError("AccessDeniedException",
                            "You are not authorized to perform this operation (test).")
    if code not in q or (applied and code in q.get("default_only", [])):
        raise NoSuchResource()
    return _quota(code, q)


_get_service_quota = models.ServiceQuotasBackend.get_service_quota


def get_service_quota(self, service_code, quota_code):
    if service_code == "ec2" and _quotas() is not None:
        return _ec2(quota_code, True)
    return _get_service_quota(self, service_code, quota_code)


def get_aws_default_service_quota(self):
    params = json.loads(self.body)
    if params.get("ServiceCode") != "ec2":
        raise NoSuchResource()
    return json.dumps({"Quota": _ec2(params.get("QuotaCode"), False)})


models.ServiceQuotasBackend.get_service_quota = get_service_quota
responses.ServiceQuotasResponse.get_aws_default_service_quota = get_aws_default_service_quota

if __name__ == "__main__":
    if "--indexed-tags" in sys.argv:
        # Importing it replaces moto's EC2 tag lookup (see its docstring).
        sys.argv.remove("--indexed-tags")
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import moto_indexed  # noqa: F401
    sys.exit(main())
