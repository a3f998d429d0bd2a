// Runs Python on the real MicroPython interpreter (its WebAssembly build from npm).
// Usage: node run.mjs MANIFEST.json
// The manifest names host files to copy into the interpreter's filesystem, the heap size, and
// the Python source to run. Everything the script prints goes to stdout, line by line.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const mp = await loadMicroPython({
  heapsize: manifest.heapsize || 1024 * 1024,
  pystack: manifest.pystack || 8192,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
for (const [hostPath, mpPath] of manifest.files) {
  mp.FS.mkdirTree(dirname(mpPath));
  mp.FS.writeFile(mpPath, readFileSync(hostPath));
}
// `main` is one script, or a list run one after another in the same interpreter. Between two
// top-level calls the C stack is unwound, so gc.collect() at the start of a call frees what a
// previous call left behind (within one call, stale stack words keep garbage alive).
const chunks = Array.isArray(manifest.main) ? manifest.main : [manifest.main];
try {
  for (const chunk of chunks) mp.runPython(chunk);
} catch (err) {
  if (err.name !== "PythonError") throw err;
  if (err.type !== "SystemExit") {
    process.stdout.write("@@CRASH " + JSON.stringify(String(err.message)) + "\n");
    process.exitCode = 3;
  }
}
