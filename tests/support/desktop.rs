//! What the desktop end-to-end tests (`desktop_e2e.rs`, `desktop_update.rs`) share to drive the
//! real app: processes that take their whole group down with them, a free port, a probe that the
//! server answers, Xvfb, and tauri-driver.

use fieldbook_core::sync::protocol::PROTOCOL_VERSION;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process in its own process group; dropping it kills the whole group (tauri-driver
/// starts WebKitWebDriver, which starts the app — or an AppImage's runtime, which starts the app,
/// whose restart after an update stays in that group).
pub struct Proc {
    pub child: Child,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
        let child = cmd.process_group(0).spawn().unwrap_or_else(|e| panic!("cannot start {name} ({e}): run scripts/setup.sh, which installs it"));
        Proc { child }
    }

    /// Stops the group: SIGTERM, then SIGKILL if it lingers.
    pub fn stop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().unwrap().port()
}

/// `GET /api/status` answers 200: the server is up.
pub fn server_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nFieldbook-Protocol: {PROTOCOL_VERSION}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Xvfb on a display number it picks itself (`-displayfd`), 1366×768 like the app's window.
pub fn start_xvfb() -> (Proc, String) {
    let mut cmd = Command::new("Xvfb");
    cmd.args(["-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"]).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut p = Proc::spawn("Xvfb", &mut cmd);
    let mut line = String::new();
    BufReader::new(p.child.stdout.take().unwrap()).read_line(&mut line).expect("read Xvfb's display number");
    let n = line.trim();
    assert!(!n.is_empty() && n.chars().all(|c| c.is_ascii_digit()), "Xvfb did not report a display: {line:?}");
    (p, format!(":{n}"))
}

/// The WebDriver server for Tauri apps, on PATH or where `cargo install` puts it.
pub fn tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin"));
    on_path
        .chain(home)
        .map(|d| d.join("tauri-driver"))
        .find(|p| p.is_file())
        .expect("tauri-driver is not installed: scripts/setup.sh installs it (cargo install tauri-driver --locked)")
}
