//! The page in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver, loads the page from `ironpc serve`'s server, boots GLaBIOS
//! and FreeDOS, types `ver` as key events on the canvas, and compares the
//! canvas with the native `--screenshot` render of the same machine state.
//! It also times the built-in `mix` workload in wasm and natively.
//!
//! The WebDriver client is the few W3C WebDriver calls this needs (new
//! session, navigate, execute script, find element, send keys, delete
//! session) written over std's `TcpStream` and serde_json: a client crate
//! (fantoccini, thirtyfour) brings an async runtime and an HTTP stack to
//! compile, on a build machine with two cores, for six JSON requests.
//!
//! Needs: /usr/bin/chromium and /usr/bin/chromedriver (or `$CHROMIUM`,
//! `$CHROMEDRIVER`), the shared images (`$IRONPC_SHARED`), and the wasm
//! build (`scripts/build-web.sh`, which this test runs when the wasm
//! toolchain is installed). Anything missing: the test says SKIPPED and
//! passes, unless `IRONPC_REQUIRE_DATA=1`, when it fails.

use harness::cli::serve::{default_pkg_dir, serve, Site};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C WebDriver key for an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Enter in WebDriver's key codes.
const KEY_ENTER: &str = "\u{E007}";

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("IRONPC_REQUIRE_DATA=1 but {msg}");
    }
    println!("SKIPPED: {msg}");
    // Also past the test harness's capture, so that a skip is seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("IRONPC_SHARED")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    // ChromeDriver accepts only canonical paths for file inputs (no `..`).
    dir.canonicalize().unwrap_or(dir)
}

fn tool(env: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var_os(env)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    p.is_file().then_some(p)
}

/// Build the wasm with scripts/build-web.sh if its tools are there; the
/// package directory when it holds a build.
fn wasm_pkg() -> Result<PathBuf, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/build-web.sh");
    let tools = Command::new("bash")
        .arg(&script)
        .arg("--check")
        .status()
        .is_ok_and(|s| s.success());
    if tools {
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let pkg = default_pkg_dir();
    if pkg.join("ironpc_web_bg.wasm").is_file() && pkg.join("ironpc_web.js").is_file() {
        Ok(pkg)
    } else {
        Err(format!(
            "no wasm build in {} and no wasm toolchain to make one (run scripts/build-web.sh)",
            pkg.display()
        ))
    }
}

/// Kills the child process when dropped (a failed assertion included).
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request with a JSON body to 127.0.0.1:`port`; the JSON reply.
fn http_json(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // Read the header, then exactly Content-Length bytes: the driver may
    // keep the connection open whatever the request says.
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("connection closed in the reply to {method} {path}"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &raw[head_end..];
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let rest = String::from_utf8_lossy(&raw[head_end..]).into_owned();
    let body = if chunked { dechunk(&rest) } else { rest };
    serde_json::from_str(&body).map_err(|e| format!("{method} {path}: {e}: {body:.200}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A WebDriver session on chromedriver.
struct Browser {
    port: u16,
    session: String,
    _driver: Kill,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path, profile: &Path) -> Browser {
        let port = free_port();
        let driver = Kill(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let t0 = Instant::now();
        while http_json(port, "GET", "/status", None)
            .map(|v| v["value"]["ready"] != json!(true))
            .unwrap_or(true)
        {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver not ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1200,1000",
                         format!("--user-data-dir={}", profile.display())],
            },
            "timeouts": {"script": 120000, "pageLoad": 60000},
        }}});
        let v = http_json(port, "POST", "/session", Some(&caps)).expect("new session");
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Browser {
            port,
            session,
            _driver: driver,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let p = format!("/session/{}{path}", self.session);
        let body = (method != "GET").then_some(&body);
        let v = http_json(self.port, method, &p, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        if v["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v[ELEMENT_KEY].as_str().expect("element id").to_string()
    }

    fn send_keys(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    /// Poll `script` until it returns true; panic with `what` after `limit`.
    fn wait_for(&self, script: &str, limit: Duration, what: &str) {
        let t0 = Instant::now();
        loop {
            if self.js(script) == json!(true) {
                return;
            }
            if t0.elapsed() > limit {
                let screen = self.js("return window.ironpc ? ironpc.screenText() : ''");
                let msg = self.js("return document.getElementById('message').textContent");
                panic!(
                    "{what}: not within {limit:?}\nmessage: {msg}\nscreen:\n{}",
                    screen.as_str().unwrap_or("")
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let p = format!("/session/{}", self.session);
        let _ = http_json(self.port, "DELETE", &p, None);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = s.bytes().filter_map(val).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= d << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

/// Decode a PNG to (width, height, RGB bytes).
fn png_rgb(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let px = &buf[..info.buffer_size()];
    let rgb = match info.color_type {
        png::ColorType::Rgb => px.to_vec(),
        png::ColorType::Rgba => px.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width, info.height, rgb)
}

#[test]
fn boots_freedos_in_chromium() {
    let shared = shared_dir();
    let bios = shared.join("images/bios/glabios-0.2.6-xt.rom");
    let floppy = shared.join("images/floppy/freedos-360k.img");
    if !bios.is_file() || !floppy.is_file() {
        return skip(&format!(
            "boot images missing ({}, {}; set IRONPC_SHARED)",
            bios.display(),
            floppy.display()
        ));
    }
    let (Some(chromium), Some(chromedriver)) = (
        tool("CHROMIUM", "/usr/bin/chromium"),
        tool("CHROMEDRIVER", "/usr/bin/chromedriver"),
    ) else {
        return skip(
            "chromium or chromedriver not installed (apt-get install chromium chromium-driver)",
        );
    };
    let pkg = match wasm_pkg() {
        Ok(p) => p,
        Err(e) => return skip(&e),
    };

    // The server `ironpc serve` runs, on a thread of this test.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        serve(
            listener,
            Site {
                static_dir: None,
                pkg_dir: pkg,
                bios: Some(bios),
            },
        )
    });

    let tmp = tempfile::tempdir().expect("temp dir");
    let browser = Browser::start(&chromium, &chromedriver, &tmp.path().join("profile"));
    browser.goto(&url);
    browser.wait_for(
        "return !!(window.ironpc && ironpc.ready && ironpc.running)",
        Duration::from_secs(60),
        "the page loads the wasm and powers on with the served BIOS",
    );

    // Real speed by default: emulated time keeps pace with wall time (the
    // XT's clock is 14.31818 MHz / 3). Loose bounds: the host is shared.
    let c0 = browser.js("return ironpc.cycles()").as_f64().unwrap();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let c1 = browser.js("return ironpc.cycles()").as_f64().unwrap();
    let ratio = (c1 - c0) / (14_318_180.0 / 3.0) / t0.elapsed().as_secs_f64();
    assert!(
        (0.5..1.5).contains(&ratio),
        "emulated/real time at default speed is {ratio:.2}, not about 1"
    );
    let speed = browser.js("return document.getElementById('speed').textContent");
    assert!(
        speed
            .as_str()
            .is_some_and(|s| s.contains("MIPS") && s.contains("emulated/real")),
        "live speed shown: {speed}"
    );

    // Bad input: a file of no floppy size gives a message; the machine runs on.
    let junk = tmp.path().join("junk.bin");
    let bytes: Vec<u8> = (0..12_345u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&junk, bytes).unwrap();
    let input = browser.element("#floppy-file");
    browser.send_keys(&input, junk.to_str().unwrap());
    browser.wait_for(
        "return ironpc.message().includes('junk.bin') && ironpc.message().includes('no known PC floppy size')",
        Duration::from_secs(20),
        "a message about the bad floppy",
    );
    assert_eq!(
        browser.js("return ironpc.running && !ironpc.dead"),
        json!(true)
    );

    // Random bytes of a floppy's size: a disk, but one the page warns cannot boot.
    let noise = tmp.path().join("noise.img");
    let bytes: Vec<u8> = (0..368_640u32)
        .map(|i| (i.wrapping_mul(2_246_822_519).rotate_left(13) >> 24) as u8)
        .collect();
    assert_ne!(&bytes[510..512], &[0x55, 0xAA]);
    std::fs::write(&noise, bytes).unwrap();
    browser.send_keys(&input, noise.to_str().unwrap());
    browser.wait_for(
        "return ironpc.message().includes('noise.img inserted') && ironpc.message().includes('no boot signature')",
        Duration::from_secs(20),
        "a note that the random disk cannot boot",
    );
    assert_eq!(
        browser.js("return ironpc.running && !ironpc.dead"),
        json!(true)
    );

    // The real disk, then Reset so that the BIOS boots from it; unthrottled.
    browser.send_keys(&input, floppy.to_str().unwrap());
    browser.wait_for(
        "return ironpc.message().startsWith('freedos-360k.img inserted in A:')",
        Duration::from_secs(20),
        "the floppy goes in",
    );
    browser.js("document.getElementById('turbo').checked = true; document.getElementById('reset').click(); return true");
    browser.wait_for(
        "return ironpc.screenText().includes('A:\\\\>')",
        Duration::from_secs(240),
        "FreeDOS reaches the A:\\> prompt",
    );

    // Type `ver` and Enter as key events on the canvas (keydown/keyup with
    // DOM codes, mapped to XT scan codes by the page).
    let canvas = browser.element("#screen");
    browser.send_keys(&canvas, &format!("ver{KEY_ENTER}"));
    browser.wait_for(
        "const l = ironpc.screenText().split('\\n'); \
         const at = l.map(s => s.startsWith('A:\\\\>ver')).lastIndexOf(true); \
         return at >= 0 && l.slice(at).some(s => s.includes('FreeCom version')) \
                && l.slice(at + 1).some(s => s.startsWith('A:\\\\>'))",
        Duration::from_secs(60),
        "`ver` prints FreeCom's version and a new prompt",
    );

    // A picture of the whole page, when asked for (to look at the page).
    if let Some(path) = std::env::var_os("IRONPC_WEB_SCREENSHOT") {
        let shot = browser.call("GET", "/screenshot", json!({}));
        std::fs::write(&path, base64_decode(shot.as_str().unwrap_or("")))
            .expect("write page screenshot");
    }

    // The canvas against the native screenshot of the same state.
    let pair = browser.js("ironpc.pause(); return [ironpc.saveState(), ironpc.canvasPng()]");
    let state = pair[0].as_str().expect("state JSON");
    let data_url = pair[1].as_str().expect("canvas PNG");
    let canvas_png = base64_decode(
        data_url
            .strip_prefix("data:image/png;base64,")
            .expect("a PNG data URL"),
    );
    let (cw, ch, canvas_rgb) = png_rgb(&canvas_png);
    let mut m = web::machine_from_state_json(state).expect("page state loads natively");
    assert!(m.screen_text().contains("FreeCom version"));
    let native_path = tmp.path().join("native.png");
    harness::cli::run::write_screenshot(&mut m, &native_path).expect("native screenshot");
    let (nw, nh, native_rgb) = png_rgb(&std::fs::read(&native_path).unwrap());
    assert_eq!((cw, ch), (nw, nh), "canvas size vs native screenshot size");
    // CGA 80×25 text: 640 × 200 lines, doubled as a monitor shows them.
    assert_eq!((nw, nh), (640, 400));
    let differing = canvas_rgb
        .chunks(3)
        .zip(native_rgb.chunks(3))
        .filter(|(a, b)| a != b)
        .count();
    let lit = native_rgb.chunks(3).filter(|p| p != &[0, 0, 0]).count();
    assert!(lit > 1000, "the screen has text on it ({lit} lit pixels)");
    assert_eq!(
        differing, 0,
        "pixels that differ between canvas and native render"
    );

    // Speed: the built-in workload in wasm (best of 3) against the same code natively.
    let wasm = browser.js("return ironpc.bench(3)");
    assert_eq!(wasm["exited"], json!(true), "mix finished in wasm: {wasm}");
    let wasm_mips = wasm["mips"].as_f64().expect("MIPS");
    let mut native_mips: f64 = 0.0;
    for _ in 0..3 {
        let t0 = Instant::now();
        let r = web::bench::run_mix();
        let s = t0.elapsed().as_secs_f64();
        assert!(r.exited);
        assert_eq!(
            r.instructions as f64,
            wasm["instructions"].as_f64().unwrap()
        );
        native_mips = native_mips.max(r.instructions as f64 / s / 1e6);
    }
    let report = format!(
        "browser bench: mix in wasm {wasm_mips:.1} MIPS, natively (this test's build) {native_mips:.1} MIPS, wasm/native {:.2}",
        wasm_mips / native_mips
    );
    println!("{report}");
    let _ = writeln!(std::io::stderr(), "{report}");
    assert!(wasm_mips > 0.0);
    assert!(!browser.js("return ironpc.dead").as_bool().unwrap_or(true));
}
