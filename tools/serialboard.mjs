// The virtual board's chip: the real MicroPython interpreter (WebAssembly build from npm) behind a
// serial line, driven by tools/serialboard.py (which owns the pseudo-terminal and the TCP bridge).
//
//   node tools/serialboard.mjs CONFIG.json
//
// CONFIG: {serial_fd, flash, rom_file, rom_size, pins_fifo, net_out, net_in, lib_files, heapsize}
//
// Everything here is synchronous (fs.readSync on non-blocking descriptors, Atomics.wait to sleep):
// while Python runs, Node's event loop never turns, so the Python side calls into this file (the
// `_vb` module) to sleep, to look at the serial line (Ctrl-C -> KeyboardInterrupt, as a board's
// UART interrupt does), to read the sensor control channel and to move TCP bytes.
//
// What this emulates of a board over USB serial, where the interpreter itself does not:
// - soft reset (Ctrl-D at an empty prompt): the interpreter returns and prints nothing; here a fresh
//   interpreter boots over the same flash, prints "MPY: soft reboot", runs boot.py, then main.py
//   (friendly REPL only, as the ports do) and the REPL again, raw if it was raw;
// - raw-paste (Ctrl-E A Ctrl-A): the interpreter answers as if supported but never executes, so
//   the protocol is done here (rawPaste) and the code run through the raw REPL;
// - machine.reset(): a hard reset, the flash kept, main.py run (see serialboard_mp/vboard.py);
// - the flash: the board's / is a host folder, loaded at each boot, written back after each
//   command (Ctrl-D in the raw REPL, Enter in the friendly one) and before each reset;
// - the ROMFS partition: rom_file holds its content; it is mounted at /rom at boot and written by
//   `mpremote romfs deploy` through vfs.rom_ioctl (emulated in serialboard_mp/vboard.py).
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const RESERVED = new Set(["tmp", "home", "dev", "proc"]);   // Emscripten's own directories
const CTRL_A = 1, CTRL_B = 2, CTRL_C = 3, CTRL_D = 4, CTRL_E = 5;
const PYEXEC_FORCED_EXIT = 0x100;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(sleeper, 0, 0, ms);

let mp = null;            // the running interpreter
let raw = false;          // REPL mode, kept across soft resets as the ports do
let executing = false;    // Python is running (a Ctrl-C may be delivered)
let resetRequest = null;  // "hard" after machine.reset()
const inq = [];           // serial bytes received, not yet given to the REPL
const readBuf = Buffer.alloc(4096);

// ---- serial line --------------------------------------------------------------------------
let outBuf = [];
let stalled = false;      // nobody reads the line: output is dropped, as a USB UART drops it

function flushOut() {
  if (!outBuf.length) return;
  let data = Buffer.from(outBuf);
  outBuf = [];
  const give_up = Date.now() + (stalled ? 0 : 2000);
  while (data.length) {
    try {
      const n = fs.writeSync(cfg.serial_fd, data);
      data = data.subarray(n);
      stalled = false;
    } catch (e) {
      if (e.code !== "EAGAIN" && e.code !== "EIO") throw e;
      if (Date.now() >= give_up) { stalled = true; return; }
      sleep(2);
    }
  }
}

let mute = false;          // after machine.reset(): the traceback of BoardReset is not shown

let swallow = [];          // bytes of the REPL's answer not to pass on (see rawPaste)

function emit(byte) {
  if (mute) return;
  if (swallow.length && swallow[0] === byte) { swallow.shift(); return; }
  outBuf.push(byte);
  if (outBuf.length >= 1024 || byte === 10) flushOut();
}

function emitText(s) {
  for (const b of Buffer.from(s, "latin1")) outBuf.push(b);
  flushOut();
}

function pollSerial() {
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(cfg.serial_fd, readBuf, 0, readBuf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN" || e.code === "EIO") return;
      throw e;
    }
    if (n <= 0) return;
    for (let i = 0; i < n; i++) inq.push(readBuf[i]);
  }
}

// While Python runs: a Ctrl-C on the line interrupts it (the bytes before it stay queued).
function checkInterrupt() {
  pollSerial();
  const i = inq.indexOf(CTRL_C);
  if (i >= 0 && executing) {
    inq.splice(i, 1);
    mp._module._mp_sched_keyboard_interrupt();
    return true;
  }
  return false;
}

// The host side (serialboard.py) is gone: so is the board (checked at most once a second).
const parent = process.ppid;
let lastParentCheck = Date.now();
function checkParent() {
  if (Date.now() - lastParentCheck < 1000) return;
  lastParentCheck = Date.now();
  if (process.ppid !== parent) process.exit(0);
}

// ---- flash folder <-> the interpreter's filesystem -------------------------------------------
let snapshot = new Map();   // path -> "size:mtime" of what the host folder holds

function loadFlash() {
  fs.mkdirSync(cfg.flash, { recursive: true });
  snapshot = new Map();
  const walk = (host, mpDir) => {
    for (const name of fs.readdirSync(host)) {
      if (mpDir === "/" && RESERVED.has(name)) continue;
      const h = path.join(host, name);
      const m = mpDir === "/" ? "/" + name : mpDir + "/" + name;
      if (fs.statSync(h).isDirectory()) {
        mp.FS.mkdirTree(m);
        snapshot.set(m + "/", "dir");
        walk(h, m);
      } else {
        mp.FS.writeFile(m, fs.readFileSync(h));
        const st = mp.FS.stat(m);
        snapshot.set(m, st.size + ":" + st.mtime.getTime());
      }
    }
  };
  walk(cfg.flash, "/");
}

function syncFlash() {
  if (!mp) return;
  const now = new Map();
  const walk = (mpDir) => {
    for (const name of mp.FS.readdir(mpDir)) {
      if (name === "." || name === "..") continue;
      if (mpDir === "/" && RESERVED.has(name)) continue;
      const m = mpDir === "/" ? "/" + name : mpDir + "/" + name;
      const st = mp.FS.stat(m);
      if (mp.FS.isDir(st.mode)) {
        now.set(m + "/", "dir");
        walk(m);
      } else {
        now.set(m, st.size + ":" + st.mtime.getTime());
      }
    }
  };
  walk("/");
  for (const [m, sig] of now) {
    if (snapshot.get(m) === sig) continue;
    const h = path.join(cfg.flash, m);
    if (sig === "dir") { fs.mkdirSync(h, { recursive: true }); continue; }
    fs.mkdirSync(path.dirname(h), { recursive: true });
    fs.writeFileSync(h + ".vbtmp", mp.FS.readFile(m));
    fs.renameSync(h + ".vbtmp", h);
  }
  const gone = [...snapshot.keys()].filter((m) => !now.has(m)).sort().reverse();
  for (const m of gone) {
    fs.rmSync(path.join(cfg.flash, m), { recursive: true, force: true });
  }
  snapshot = now;
}

// While the firmware runs (main.py, a walk test) what it writes reaches the host folder within
// SYNC_RUNNING_MS, so a power cut (the chip killed) loses no more than a real flash write would.
const SYNC_RUNNING_MS = 1000;
let lastRunningSync = Date.now();
function syncWhileRunning() {
  if (Date.now() - lastRunningSync < SYNC_RUNNING_MS) return;
  lastRunningSync = Date.now();
  syncFlash();
}

// ---- sensor control channel: lines "Z<zone>=<0|1>" (zone idle/active), "P<gpio>=<0|1>",
// "C=<card id>[:felica]" (a card held on the reader; "C=" takes it away) ------------------------
const pinState = new Map();   // "Z3" -> 1: what the house's sensors show, kept across resets
let pinsFd = -1;
let pinsTail = "";
let pinsNew = [];

function pollPins() {
  if (pinsFd < 0) return;
  for (;;) {
    let n = 0;
    try { n = fs.readSync(pinsFd, readBuf, 0, readBuf.length, null); } catch (e) {
      if (e.code === "EAGAIN") break;
      throw e;
    }
    if (n <= 0) break;
    pinsTail += readBuf.toString("latin1", 0, n);
  }
  const lines = pinsTail.split("\n");
  pinsTail = lines.pop();
  for (const line of lines) {
    const m = /^\s*([ZP])(\d+)\s*=\s*([01])\s*$/.exec(line);
    const c = /^\s*C\s*=\s*([0-9A-Fa-f]*)(:felica|:mifare)?\s*$/.exec(line);
    if (m) {
      pinState.set(m[1] + m[2], +m[3]);
      pinsNew.push(m[1] + m[2] + "=" + m[3]);
    } else if (c) {
      pinState.set("C", c[1].toUpperCase() + (c[2] || ""));
      pinsNew.push("C=" + pinState.get("C"));
    } else if (line.trim()) {
      process.stderr.write("vboard: control line ignored: " + line + "\n");
    }
  }
}

// ---- TCP bridge (the host side is tools/serialboard.py) ---------------------------------------
// Lines to the host: "O id host port", "S id hex", "C id". From the host: "K id" (connected),
// "D id hex" (data), "E id errno" (failed or closed; 0 = the peer closed).
const socks = new Map();      // id -> {status: 0 connecting | 1 up | -errno, rx: [Buffer], eof}
let nextSock = 1;
let netOutFd = -1, netInFd = -1, netTail = "";

function netWrite(line) {
  if (netOutFd < 0) return;
  let data = Buffer.from(line + "\n", "latin1");
  while (data.length) {
    try { data = data.subarray(fs.writeSync(netOutFd, data)); } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      sleep(1);
    }
  }
}

function pollNet() {
  if (netInFd < 0) return;
  for (;;) {
    let n = 0;
    try { n = fs.readSync(netInFd, readBuf, 0, readBuf.length, null); } catch (e) {
      if (e.code === "EAGAIN") break;
      throw e;
    }
    if (n <= 0) break;
    netTail += readBuf.toString("latin1", 0, n);
  }
  const lines = netTail.split("\n");
  netTail = lines.pop();
  for (const line of lines) {
    const [op, id, arg] = line.split(" ");
    const s = socks.get(+id);
    if (!s) continue;
    if (op === "K") s.status = 1;
    else if (op === "D") s.rx.push(Buffer.from(arg, "hex"));
    else if (op === "E") { if (+arg) s.status = -(+arg); s.eof = true; }
  }
}

// ---- the `_vb` module the Python side sees -----------------------------------------------------
function vbModule() {
  return {
    sleep: (ms) => {                      // sleep, the line and the house watched meanwhile
      const end = Date.now() + ms;
      for (;;) {
        flushOut();
        checkParent();
        syncWhileRunning();
        if (checkInterrupt()) return;
        pollPins(); pollNet();
        if (pinsNew.length) return;       // a sensor moved: the firmware sees it at once
        const left = end - Date.now();
        if (left <= 0) return;
        sleep(Math.min(left, 5));
      }
    },
    poll: () => { flushOut(); checkInterrupt(); pollPins(); pollNet(); },
    pins: () => { pollPins(); const s = pinsNew.join(";"); pinsNew = []; return s; },
    pins_all: () => [...pinState].map(([k, v]) => k + "=" + v).join(";"),
    hard_reset: () => { resetRequest = "hard"; mute = true; },   // nothing more from this chip
    rom_size: () => cfg.rom_size,
    rom_erase: (offset, len) => {
      const fd = fs.openSync(cfg.rom_file, fs.existsSync(cfg.rom_file) ? "r+" : "w+");
      fs.writeSync(fd, Buffer.alloc(len, 0xff), 0, len, offset);
      fs.closeSync(fd);
    },
    rom_write: (offset, hex) => {
      const fd = fs.openSync(cfg.rom_file, fs.existsSync(cfg.rom_file) ? "r+" : "w+");
      const data = Buffer.from(hex, "hex");
      fs.writeSync(fd, data, 0, data.length, offset);
      fs.closeSync(fd);
    },
    net_open: (host, port) => {
      const id = nextSock++;
      socks.set(id, { status: 0, rx: [], eof: false });
      netWrite("O " + id + " " + host + " " + port);
      return id;
    },
    net_status: (id) => { pollNet(); const s = socks.get(id); return s ? s.status : -9; },
    net_peek: (id) => {                    // 1: data waiting, 0: none yet, -1: closed and drained
      pollNet();
      const s = socks.get(id);
      if (!s) return -1;
      return s.rx.length ? 1 : (s.eof ? -1 : 0);
    },
    net_send: (id, hex) => { netWrite("S " + id + " " + hex); return hex.length / 2; },
    net_recv: (id, max) => {               // hex ("" = nothing yet), null = closed and drained
      pollNet();
      const s = socks.get(id);
      if (!s) return null;
      if (!s.rx.length) return s.eof ? null : "";
      let buf = Buffer.concat(s.rx);
      const take = max > 0 ? Math.min(max, buf.length) : buf.length;
      s.rx = take < buf.length ? [buf.subarray(take)] : [];
      return buf.subarray(0, take).toString("hex");
    },
    net_close: (id) => { if (socks.delete(id)) netWrite("C " + id); },
  };
}

// ---- boot ------------------------------------------------------------------------------------
function romImage() {
  if (!cfg.rom_size || !fs.existsSync(cfg.rom_file)) return undefined;
  const img = fs.readFileSync(cfg.rom_file);
  // An erased or half-written partition (no ROMFS header) mounts nothing, as on a board.
  if (img.length < 4 || img[0] !== 0xd2 || img[1] !== 0xcd || img[2] !== 0x31) return undefined;
  return new Uint8Array(img);
}

function runPy(code) {
  executing = true;
  try { mp.runPython(code); } catch (e) {
    if (e.name !== "PythonError") throw e;
    emitText(String(e.message).replace(/\r?\n/g, "\r\n"));
  } finally { executing = false; }
  flushOut();
}

async function boot(kind) {
  if (mp) syncFlash();
  mute = false;
  for (const s of socks.keys()) netWrite("C " + s);   // a reset drops every connection
  socks.clear();
  mp = null;
  const quiet = { on: false };
  mp = await loadMicroPython({
    heapsize: cfg.heapsize || 1024 * 1024,
    pystack: 16384,
    linebuffer: false,
    romfs: romImage(),
    stdout: (b) => { if (!quiet.on) for (const c of b) emit(c); },
    stderr: (b) => { if (!quiet.on) for (const c of b) emit(c); },
  });
  loadFlash();
  mp.registerJsModule("_vb", vbModule());
  mp.FS.mkdirTree("/tmp/vboard");
  for (const f of cfg.lib_files) mp.FS.writeFile("/tmp/vboard/" + path.basename(f), fs.readFileSync(f));
  if (kind === "soft") emitText("MPY: soft reboot\r\n");
  runPy("import sys\nsys.path.insert(0, '/tmp/vboard')\nimport vboard\nvboard.install()\n" +
        "sys.path.remove('/tmp/vboard')\n");
  runPy("import vboard\nvboard.run_file('boot.py')\n");
  if (!raw) runPy("import vboard\nvboard.run_file('main.py')\n");
  runPy("import vboard\nvboard.after_main()\n");
  quiet.on = raw;          // a board in raw mode prints no banner after a soft reset
  mp.replInit();
  quiet.on = false;
  if (raw) { raw = false; feed(CTRL_A); }
  flushOut();
}

// Raw-paste mode (mpremote's fast path), done here because the interpreter's own answers as if
// supported but never runs the code: "R\x01" and the window size, a \x01 each time a window's
// worth has been taken, "\x04" when the host's \x04 ends the code; then the code goes to the raw
// REPL as if typed (its "OK" swallowed: raw-paste has none), which runs it and answers as usual.
const PASTE_WINDOW = 512;
function rawPaste() {
  emitText("R\x01" + String.fromCharCode(PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8));
  const code = [];
  let left = PASTE_WINDOW;
  for (;;) {
    checkParent();
    if (!inq.length) { pollSerial(); if (!inq.length) sleep(1); continue; }
    const c = inq.shift();
    if (c === CTRL_D) break;
    if (c === CTRL_C) { emitText("\x04"); return; }   // abandoned by the host
    code.push(c);
    if (--left === 0) { emitText("\x01"); left = PASTE_WINDOW; }
  }
  emitText("\x04");
  for (const c of code) feed(c);
  swallow = [0x4f, 0x4b];      // "OK"
  feed(CTRL_D);
  swallow = [];
}

function feed(c) {
  if (c === CTRL_A) raw = true;
  else if (c === CTRL_B) raw = false;
  executing = true;
  let ret = 0;
  try { ret = mp.replProcessChar(c); } finally { executing = false; }
  flushOut();
  return ret;
}

async function main() {
  netOutFd = cfg.net_out ? fs.openSync(cfg.net_out, fs.constants.O_RDWR | fs.constants.O_NONBLOCK) : -1;
  netInFd = cfg.net_in ? fs.openSync(cfg.net_in, fs.constants.O_RDWR | fs.constants.O_NONBLOCK) : -1;
  pinsFd = cfg.pins_fifo ? fs.openSync(cfg.pins_fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK) : -1;
  await boot("power");
  for (;;) {
    checkParent();
    if (resetRequest === "hard") {        // machine.reset() from boot.py or main.py
      resetRequest = null;
      raw = false;
      await boot("hard");
      continue;
    }
    pollSerial(); pollPins(); pollNet();
    if (!inq.length) { sleep(5); continue; }
    const c = inq.shift();
    if (raw && c === CTRL_E) {
      while (inq.length < 2) { sleep(1); pollSerial(); }
      if (inq[0] === 0x41 && inq[1] === CTRL_A) {      // raw-paste request (see rawPaste)
        inq.splice(0, 2);
        rawPaste();
        syncFlash();
        continue;
      }
    }
    const ret = feed(c);
    if (c === CTRL_D || c === 13) syncFlash();
    if (!resetRequest && (ret & PYEXEC_FORCED_EXIT)) {
      await boot("soft");
    }
  }
}

await main();
