"""The one line that runs margincall's conformance suite on this plugin's policy."""

from margincall.testing.pytest_plugin import conformance_test

test_sample_venue = conformance_test("sample-venue")
