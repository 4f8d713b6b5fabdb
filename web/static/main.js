// ironpc's page: loads the wasm machine, runs it in slices per animation
// frame (so the page stays responsive), draws its display on the canvas and
// feeds it key events. `window.ironpc` is the handle tests (and curious
// users) drive it through.
import init, { WebPc, bench_mix } from './pkg/ironpc_web.js';

const CPU_HZ = 14318180 / 3;          // the XT's 4.77 MHz clock
const MAX_FRAME_MS = 100;             // never try to catch up more than this per frame
const TURBO_BUDGET_MS = 14;           // host time per frame spent emulating when unthrottled
const TURBO_CHUNK = 50000;            // cycles per call when unthrottled

const $ = (id) => document.getElementById(id);
const canvas = $('screen');
const ctx = canvas.getContext('2d');

let pc = null;                        // the WebPc, once powered on
let bios = null;                      // { name, bytes }
let floppy = null;                    // { name, bytes } last accepted
let running = false;
let dead = false;                     // the wasm module trapped: nothing more can run
let lastT = null;
let window0 = null;                   // start of the current speed-measuring window

function message(text) { $('message').textContent = text || ''; }
function status(text) { $('status').textContent = text; }
function errText(e) { return (e && e.message) ? e.message : String(e); }

// Any call into the machine goes through here: a thrown error is shown, and
// a trap (a bug in the emulator) stops the machine instead of the page.
function guard(what, f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      dead = true;
      running = false;
      status('stopped');
      message(`The emulator stopped (${what}): ${errText(e)}. Reload the page to start again.`);
    } else {
      message(`${what}: ${errText(e)}`);
    }
    return undefined;
  }
}

function powerOn() {
  if (dead) return;
  if (!bios) { message('Choose a BIOS image first.'); return; }
  const video = $('video').value;
  const next = guard('power on', () => new WebPc(bios.name, bios.bytes, video));
  if (!next) { return; }
  if (pc) pc.free();
  pc = next;
  if (floppy) {
    guard('floppy', () => pc.insert_floppy(floppy.name, floppy.bytes));
  }
  message('');
  running = true;
  lastT = null;
  window0 = null;
  status(`running ${bios.name}${floppy ? ' + ' + floppy.name : ''}`);
}

function draw() {
  if (!pc || dead) return;
  guard('render', () => {
    pc.render();
    const w = pc.frame_width(), h = pc.frame_height();
    if (w === 0 || h === 0) return;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      canvas.style.width = w + 'px';
    }
    const px = pc.frame_rgba();
    ctx.putImageData(new ImageData(new Uint8ClampedArray(px.buffer, px.byteOffset, px.length), w, h), 0, 0);
    $('screen-text').textContent = pc.screen_text();
  });
}

function showSpeed(now) {
  if (!window0) {
    window0 = { t: now, ins: pc.instructions(), emu: pc.emulated_seconds() };
    return;
  }
  const dt = (now - window0.t) / 1000;
  if (dt < 0.5) return;
  const mips = (pc.instructions() - window0.ins) / dt / 1e6;
  const ratio = (pc.emulated_seconds() - window0.emu) / dt;
  $('speed').textContent =
    `${mips.toFixed(2)} MIPS · emulated/real time ${(ratio * 100).toFixed(0)}% · ` +
    `emulated ${pc.emulated_seconds().toFixed(1)} s` + ($('turbo').checked ? ' · as fast as possible' : '');
  window0 = { t: now, ins: pc.instructions(), emu: pc.emulated_seconds() };
}

function frame(t) {
  requestAnimationFrame(frame);
  if (!pc || !running || dead) { lastT = null; return; }
  const dtMs = lastT === null ? 16 : Math.min(t - lastT, MAX_FRAME_MS);
  lastT = t;
  guard('run', () => {
    if ($('turbo').checked) {
      const start = performance.now();
      do { pc.run_cycles(TURBO_CHUNK); } while (performance.now() - start < TURBO_BUDGET_MS);
    } else {
      pc.run_cycles(Math.round(dtMs / 1000 * CPU_HZ));
    }
  });
  draw();
  if (!dead) showSpeed(performance.now());
}

async function fileBytes(input) {
  const f = input.files && input.files[0];
  if (!f) return null;
  return { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
}

$('bios-file').addEventListener('change', async (e) => {
  const b = await fileBytes(e.target);
  if (!b) return;
  bios = b;
  powerOn();
});

$('floppy-file').addEventListener('change', async (e) => {
  const f = await fileBytes(e.target);
  if (!f) return;
  if (!pc) {
    // Check it now all the same, so that a bad file is reported at once.
    floppy = f;
    message('Floppy chosen; it goes in when the machine powers on.');
    return;
  }
  const note = guard('floppy', () => pc.insert_floppy(f.name, f.bytes));
  if (note !== undefined) {
    floppy = f;
    message(`${f.name} inserted in A:` + (note ? ` (${note})` : ''));
    status(`running ${bios.name} + ${f.name}`);
  }
});

$('power').addEventListener('click', powerOn);
$('video').addEventListener('change', () => { if (pc) powerOn(); });
$('reset').addEventListener('click', () => {
  if (pc && !dead) { guard('reset', () => pc.reset()); running = true; message(''); }
});
$('pause').addEventListener('click', () => {
  running = !running;
  $('pause').textContent = running ? 'Pause' : 'Resume';
  if (!running) draw();
});
$('screenshot').addEventListener('click', () => {
  canvas.toBlob((blob) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'ironpc-screen.png';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, 'image/png');
});
$('bench').addEventListener('click', () => {
  const r = bench(3);
  if (r) $('bench-result').textContent = `mix: ${r.mips.toFixed(1)} MIPS (${r.instructions} instructions in ${r.ms.toFixed(0)} ms, best of ${r.rounds})`;
});

const held = new Set();               // keys down on the canvas, by DOM code
for (const [type, down] of [['keydown', true], ['keyup', false]]) {
  canvas.addEventListener(type, (e) => {
    if (!pc || dead) return;
    if (guard('key', () => pc.key_event(e.code, down))) {
      e.preventDefault();
      if (down) held.add(e.code); else held.delete(e.code);
    }
  });
}
// The canvas never sees the key-up of a key held while it loses focus
// (Alt+Tab, a click elsewhere): release such keys, or the guest sees Shift stuck.
canvas.addEventListener('blur', () => {
  if (pc && !dead) for (const code of held) guard('key', () => pc.key_event(code, false));
  held.clear();
});
canvas.addEventListener('click', () => canvas.focus());

// The built-in workload, best of `rounds` runs, timed here (wasm has no clock).
function bench(rounds) {
  let best = null;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const r = guard('bench', () => bench_mix());
    const ms = performance.now() - t0;
    if (!r) return null;
    const run = { instructions: r[0], cycles: r[1], exited: r[2] === 1, ms, rounds };
    run.mips = run.instructions / ms / 1000;
    if (!best || run.mips > best.mips) best = run;
  }
  return best;
}

window.ironpc = {
  ready: false,
  get running() { return running && !dead; },
  get dead() { return dead; },
  message: () => $('message').textContent,
  screenText: () => (pc && !dead ? pc.screen_text() : ''),
  typeText: (s) => guard('type', () => { pc.type_text(s); return true; }) === true,
  pause: () => { running = false; draw(); },
  resume: () => { if (pc && !dead) running = true; },
  cycles: () => (pc ? pc.cycles() : 0),
  saveState: () => guard('save state', () => pc.save_state_json()),
  canvasPng: () => canvas.toDataURL('image/png'),
  bench,
};

async function start() {
  try {
    await init();
  } catch (e) {
    status('failed');
    message(`Cannot load the emulator (pkg/ironpc_web_bg.wasm): ${errText(e)}. Build it with scripts/build-web.sh.`);
    return;
  }
  requestAnimationFrame(frame);
  try {
    const r = await fetch('bios.rom');
    if (r.ok) {
      bios = { name: 'bios.rom (served)', bytes: new Uint8Array(await r.arrayBuffer()) };
      powerOn();
    } else {
      status('no BIOS');
      message('No BIOS is served beside this page: choose a BIOS file.');
    }
  } catch (e) {
    message(`Cannot fetch the BIOS: ${errText(e)}`);
  }
  window.ironpc.ready = true;
}
start();
