"""Azure Blob provider tests, against an Azurite server the test run starts itself."""
