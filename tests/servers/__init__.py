"""Local servers the tests run against (Azurite for azure-blob, moto for store-s3), shared by
every test folder through the session fixtures of :mod:`tests.servers.fixtures`."""
