//! `ironpc serve`: serve the web page (`web/static`), its wasm build and a
//! BIOS over HTTP on the loopback interface, for local use and for the
//! browser test.
//!
//! The server is std's `TcpListener` with a thread per connection rather
//! than a crate: it answers `GET`/`HEAD` for a fixed list of names (so no
//! request path ever reaches the file system), which is a few dozen lines.
//! The page's files are built into the binary; `--static` serves them from a
//! directory instead while editing them.

use super::{CliError, EXIT_OK};
use clap::Args;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const INDEX_HTML: &str = include_str!("../../../web/static/index.html");
const MAIN_JS: &str = include_str!("../../../web/static/main.js");
const STYLE_CSS: &str = include_str!("../../../web/static/style.css");

/// The name of the page's wasm files (`scripts/build-web.sh` passes it to wasm-bindgen).
pub const PKG_NAME: &str = "ironpc_web";

/// Arguments of `ironpc serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP port (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8086)]
    pub port: u16,
    /// Address to listen on. Only loopback by default: the page is for you.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// BIOS served to the page as `bios.rom` [default: GLaBIOS from the shared
    /// data directory, `$IRONPC_SHARED` or `../shared` beside the workspace].
    #[arg(long)]
    pub bios: Option<PathBuf>,
    /// wasm-bindgen output directory [default: `$CARGO_TARGET_DIR/web/pkg`,
    /// else `target/web/pkg` of the workspace], as `scripts/build-web.sh` writes it.
    #[arg(long)]
    pub pkg: Option<PathBuf>,
    /// Serve index.html, main.js and style.css from this directory instead
    /// of the copies built into the binary.
    #[arg(long = "static")]
    pub static_dir: Option<PathBuf>,
}

/// What the server serves.
#[derive(Clone, Debug)]
pub struct Site {
    /// Page files from disk instead of the built-in copies.
    pub static_dir: Option<PathBuf>,
    /// Directory holding `ironpc_web.js` and `ironpc_web_bg.wasm`.
    pub pkg_dir: PathBuf,
    /// The BIOS served as `bios.rom`, if any.
    pub bios: Option<PathBuf>,
}

/// One response.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Response {
            status: 200,
            content_type,
            body,
        }
    }
    fn not_found(what: String) -> Self {
        Response {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: what.into_bytes(),
        }
    }
}

/// The default BIOS: GLaBIOS in the shared data directory.
pub fn default_bios() -> PathBuf {
    let shared = std::env::var_os("IRONPC_SHARED")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::suite::workspace_root().join("../shared"));
    shared.join("images/bios/glabios-0.2.6-xt.rom")
}

/// The default wasm-bindgen output directory (where `scripts/build-web.sh` puts it).
pub fn default_pkg_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::suite::workspace_root().join("target"));
    target.join("web/pkg")
}

fn file(path: &Path, content_type: &'static str, hint: &str) -> Response {
    match std::fs::read(path) {
        Ok(b) => Response::ok(content_type, b),
        Err(e) => Response::not_found(format!("{}: {e}{hint}\n", path.display())),
    }
}

/// The answer to a GET of `path` (query string already removed).
pub fn respond(site: &Site, path: &str) -> Response {
    const HTML: &str = "text/html; charset=utf-8";
    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";
    let page = |name: &str, builtin: &str, ct: &'static str| match &site.static_dir {
        Some(d) => file(&d.join(name), ct, ""),
        None => Response::ok(ct, builtin.as_bytes().to_vec()),
    };
    let build_hint = " (build the page with scripts/build-web.sh)";
    match path {
        "/" | "/index.html" => page("index.html", INDEX_HTML, HTML),
        "/main.js" => page("main.js", MAIN_JS, JS),
        "/style.css" => page("style.css", STYLE_CSS, CSS),
        "/pkg/ironpc_web.js" => file(&site.pkg_dir.join("ironpc_web.js"), JS, build_hint),
        "/pkg/ironpc_web_bg.wasm" => file(
            &site.pkg_dir.join("ironpc_web_bg.wasm"),
            "application/wasm",
            build_hint,
        ),
        "/bios.rom" => match &site.bios {
            Some(p) => file(p, "application/octet-stream", " (set --bios)"),
            None => Response::not_found("no BIOS is served (set --bios)\n".into()),
        },
        _ => Response::not_found(format!("{path}: not found\n")),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
}

/// Answer one connection (one request; the connection then closes).
fn handle(site: &Site, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.by_ref().take(8192).read_line(&mut request)?;
    // Headers are not needed; read them so the client sees an orderly close.
    let mut line = String::new();
    let mut header_bytes = 0;
    loop {
        line.clear();
        let n = reader.by_ref().take(8192).read_line(&mut line)?;
        header_bytes += n;
        if n == 0 || line == "\r\n" || line == "\n" || header_bytes > 65536 {
            break;
        }
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let resp = match method {
        "GET" | "HEAD" if target.starts_with('/') => {
            respond(site, target.split(['?', '#']).next().unwrap_or("/"))
        }
        "GET" | "HEAD" | "" => Response {
            status: 400,
            content_type: "text/plain; charset=utf-8",
            body: b"bad request\n".to_vec(),
        },
        _ => Response {
            status: 405,
            content_type: "text/plain; charset=utf-8",
            body: b"only GET and HEAD\n".to_vec(),
        },
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    )?;
    if method != "HEAD" {
        out.write_all(&resp.body)?;
    }
    out.flush()
}

/// Serve `site` on `listener` until the process ends.
pub fn serve(listener: TcpListener, site: Site) {
    let site = Arc::new(site);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let site = Arc::clone(&site);
        std::thread::spawn(move || {
            // A client that goes away mid-request is no concern of the server's.
            let _ = handle(&site, stream);
        });
    }
}

/// Run `ironpc serve`.
pub fn run(args: &ServeArgs) -> Result<u8, CliError> {
    let bios = args.bios.clone().unwrap_or_else(default_bios);
    let bios = if bios.is_file() {
        Some(bios)
    } else {
        if args.bios.is_some() {
            return Err(CliError(format!("{}: no such BIOS file", bios.display())));
        }
        eprintln!(
            "note: no BIOS at {}; the page will ask for a BIOS file",
            bios.display()
        );
        None
    };
    let pkg_dir = args.pkg.clone().unwrap_or_else(default_pkg_dir);
    if !pkg_dir.join("ironpc_web_bg.wasm").is_file() {
        eprintln!(
            "note: {} has no ironpc_web_bg.wasm: build it with scripts/build-web.sh",
            pkg_dir.display()
        );
    }
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .map_err(|e| CliError(format!("cannot listen on {}:{}: {e}", args.host, args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError(format!("cannot read the listening address: {e}")))?;
    // The first line of output is the address: the browser test reads it.
    println!("serving ironpc on http://{addr}/");
    let _ = std::io::stdout().flush();
    serve(
        listener,
        Site {
            static_dir: args.static_dir.clone(),
            pkg_dir,
            bios,
        },
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(bios: Option<PathBuf>) -> Site {
        Site {
            static_dir: None,
            pkg_dir: PathBuf::from("/nonexistent/pkg"),
            bios,
        }
    }

    #[test]
    fn serves_the_page_and_only_known_names() {
        let s = site(None);
        let r = respond(&s, "/");
        assert_eq!(r.status, 200);
        assert!(r.content_type.starts_with("text/html"));
        assert!(String::from_utf8_lossy(&r.body).contains("id=\"screen-text\""));
        assert_eq!(respond(&s, "/main.js").status, 200);
        for p in [
            "/../Cargo.toml",
            "/etc/passwd",
            "/pkg/../main.js",
            "/bios.rom",
        ] {
            assert_eq!(respond(&s, p).status, 404, "{p}");
        }
        // The wasm is missing here: the answer says how to build it.
        let r = respond(&s, "/pkg/ironpc_web_bg.wasm");
        assert_eq!(r.status, 404);
        assert!(String::from_utf8_lossy(&r.body).contains("build-web.sh"));
    }

    #[test]
    fn serves_bios_and_wasm_with_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let bios = dir.path().join("b.rom");
        std::fs::write(&bios, [1u8, 2, 3]).unwrap();
        std::fs::write(dir.path().join("ironpc_web_bg.wasm"), b"\0asm").unwrap();
        let mut s = site(Some(bios));
        s.pkg_dir = dir.path().to_path_buf();
        let r = respond(&s, "/bios.rom");
        assert_eq!((r.status, r.body.as_slice()), (200, &[1u8, 2, 3][..]));
        let r = respond(&s, "/pkg/ironpc_web_bg.wasm");
        // Browsers compile wasm while it downloads only when it is served as application/wasm.
        assert_eq!((r.status, r.content_type), (200, "application/wasm"));
    }

    #[test]
    fn answers_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || serve(listener, site(None)));
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(b"GET /style.css?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        std::io::Read::read_to_string(&mut c, &mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(resp.contains("Content-Type: text/css"));
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"POST / HTTP/1.1\r\n\r\n").unwrap();
        let mut resp = String::new();
        std::io::Read::read_to_string(&mut c, &mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
    }
}
