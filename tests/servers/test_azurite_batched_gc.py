"""The tests' Azurite has its blob GC fixed (``azurite_batched_gc.js``, preloaded by
``running_azurite``): a mark-and-sweep of thousands of unreferenced in-memory extents, run
with Azurite's own classes, deletes them all in one batch and gives the event loop back in
well under a second. Without the fix the same sweep kept Azurite from answering anything for
about 10 s on a quiet machine and 40-130 s on a loaded one (one Loki index re-sort per extent)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.servers.azurite import BATCHED_GC, AzuriteUnavailable, azurite_binary

EXTENTS = 4000

# Run by node with the fix preloaded; process.argv[1] is Azurite's binary (the preload finds
# Azurite's modules from it), process.argv[2] the number of extents.
SWEEP = r"""
const path = require("path");
const blobDir = path.dirname(require("fs").realpathSync(process.argv[1]));
const load = (p) => require(path.join(blobDir, "..", p));
const ExtentMetadata = load("common/persistence/LokiExtentMetadataStore.js").default;
const { default: MemoryExtentStore, MemoryExtentChunkStore } =
  load("common/persistence/MemoryExtentStore.js");
const BlobMetadata = load("blob/persistence/LokiBlobMetadataStore.js").default;
const BlobGCManager = load("blob/gc/BlobGCManager.js").default;
const messages = [];
const logger = { info: (m) => messages.push(m), debug() {}, warn() {}, error() {}, verbose() {} };
(async () => {
  const n = parseInt(process.argv[2], 10);
  const extents = new ExtentMetadata("extents", true);
  const blobs = new BlobMetadata("blobs", true);
  const store = new MemoryExtentStore("blob", new MemoryExtentChunkStore(undefined), extents,
                                      logger, (status, code, message) => new Error(message));
  await store.init();
  await blobs.init();
  for (let i = 0; i < n; i++) {
    await store.appendExtent(Buffer.from("0123456789"));  // no blob refers to any of them
  }
  const gc = new BlobGCManager(blobs, extents, store, (error) => { throw error; }, logger);
  const start = Date.now();
  // start() runs the first sweep; in memory it ends before the event loop's next turn
  await new Promise((resolve) => { gc.start(); setImmediate(resolve); });
  const blockedMs = Date.now() - start;
  const left = (await extents.listExtents(undefined, 1e9))[0].length;
  await gc.close();
  console.log(JSON.stringify({ blockedMs, left, bytesLeft: store.chunks.totalSize(),
                               batches: messages.filter((m) => m.includes("in one batch")) }));
})();
"""


def test_a_sweep_of_thousands_of_unreferenced_extents_is_one_quick_batch() -> None:
    try:
        binary = azurite_binary()
    except AzuriteUnavailable as error:
        pytest.fail(f"Azurite is required: {error}", pytrace=False)
    node = shutil.which("node")
    assert node is not None, "Azurite needs Node 20 ('node' on PATH)"
    result = subprocess.run([node, "--require", str(BATCHED_GC), "-e", SWEEP, str(binary),
                             str(EXTENTS)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["left"] == 0 and outcome["bytesLeft"] == 0, outcome
    assert outcome["batches"] == [f"azurite_batched_gc.js: deleted {EXTENTS} extents in one batch"]
    # The fix takes ~0.1 s (a few seconds at most on a loaded machine); without it, >= 10 s.
    assert outcome["blockedMs"] < 5000, outcome
