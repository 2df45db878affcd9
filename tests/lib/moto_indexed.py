"""moto_server with EC2's per-resource tag lookup indexed: same answers,
linear cost. moto 5.2.1 finds one resource's tags by scanning every tag of
the region with a regex (TaggedEC2Resource.get_tags -> describe_tags), and
every tag filter of DescribeInstances does that for every instance it
looks at, terminated ones included. A test that tears a slot down and
builds it again dozens of times (tests/e2e/test_interrupts.py) made each
DescribeInstances cost ~0.3 s after 20 cycles. Here a resource's tags are
read from the backend's own tag map, keyed by resource id (the scan's
regex is anchored at the start, and ids of one kind have one length, so
it matched exactly that id). Imported by tests/lib/moto_quotas.py when
started with --indexed-tags; run alone, arguments as moto_server's."""

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
from moto.server import main


def _get_tags(self):
    if not self.id:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
    return [{"resource_id": self.id, "key": k, "value": v, "resource_type": kind}
            for k, v in self.ec2_backend.tags.get(self.id, {}).items()]


TaggedEC2Resource.get_tags = _get_tags

if __name__ == "__main__":
    main()
