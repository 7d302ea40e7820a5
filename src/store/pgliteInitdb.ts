// Creates a new PGlite cluster (initdb) in a process of its own: `node pgliteInitdb.ts <dir>`.
// initdb runs a second, throwaway PGlite instance and leaves the WASM memory and code of both resident
// in whatever process ran it (WASM memory never shrinks, and a finished worker thread's memory stays
// with the process's allocator): ~100 MB more, for good, on a gateway's first start than on any
// restart. A process's memory goes back to the system when it exits. The cluster it leaves is a
// closed, cleanly shut down data folder, exactly what a restart opens.
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (dir === undefined || dir === '') {
  process.stderr.write('usage: pgliteInitdb.ts <data folder>\n');
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.close();
