// Preloaded into the tests' Azurite (node --require, see azurite.py): makes the blob GC delete
// unreferenced in-memory extents in one batch instead of one at a time.
//
// Why: with --inMemoryPersistence, Azurite 3.35.0's BlobGCManager runs a mark-and-sweep at
// start and then every 10 minutes. MemoryExtentStore.deleteExtents() removes the unreferenced
// extents one by one with LokiExtentMetadataStore.deleteExtent(), a Loki findAndRemove({id}):
// each removal marks the collection's "id" index dirty, and the next lookup re-sorts the whole
// index, so deleting M of N extents costs M sorts of N. Every await in that loop resolves
// without I/O, so the whole sweep is one turn of Node's event loop: the server accepts no
// connection and answers no request until it ends. A test run leaves thousands of deleted
// blobs (one extent each) behind; at the 10-minute mark a worker's Azurite stopped answering
// for 27-40 s on a loaded 2-core machine (60 s in CI: an XT set-up's read timed out).
// Deleting 10,000 of 10,000 extents the Azurite way takes ~60 s; in one batch, well under 1 s.
//
// (No Azurite issue or fix found for this; a chained find().remove() is LokiJS's fast path for
// removing many documents, see techfort/LokiJS#663.)
//
// The replacement does what the original does (drop the chunks, then the extents' metadata
// documents) with one Loki batch removal. It checks the internals it relies on and fails
// Azurite's start-up loudly if they changed (a newer Azurite: check whether this is still
// needed).
"use strict";

const fs = require("fs");
const path = require("path");

const blobDir = path.dirname(fs.realpathSync(process.argv[1])); // .../azurite/dist/src/blob
const storeModule = require(path.join(blobDir, "..", "common", "persistence",
                                      "MemoryExtentStore.js"));
const MemoryExtentStore = storeModule.default;
if (typeof MemoryExtentStore !== "function" ||
    typeof MemoryExtentStore.prototype.deleteExtents !== "function") {
  throw new Error("azurite_batched_gc.js: MemoryExtentStore.deleteExtents not found in " +
                  blobDir + " (Azurite changed? see tests/servers/azurite.py)");
}

MemoryExtentStore.prototype.deleteExtents = async function (extents) {
  const metadata = this.metadataStore;
  const collection = metadata.db && metadata.EXTENTS_COLLECTION &&
    metadata.db.getCollection(metadata.EXTENTS_COLLECTION);
  if (!collection) {
    throw new Error("azurite_batched_gc.js: the extent metadata store is not Loki's");
  }
  const ids = new Set(extents);
  for (const id of ids) {
    this.chunks.delete(this.categoryName, id);
  }
  collection.chain().where((doc) => ids.has(doc.id)).remove();
  this.logger.info(`azurite_batched_gc.js: deleted ${ids.size} extents in one batch`);
  return ids.size;
};
