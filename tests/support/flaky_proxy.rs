//! A TCP proxy on loopback that cuts connections at random, for testing sync over a network
//! that drops every few seconds. Each connection is forwarded to the target until a randomly
//! chosen number of bytes has passed (in either direction), then both sides are shut down
//! abruptly — mid-request or mid-response, like Wi-Fi dropping.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub struct FlakyProxy {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Connections cut so far.
    pub cuts: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
}

impl FlakyProxy {
    /// Proxies to `target`; a connection is cut after a random 0..`max_bytes` bytes with
    /// probability `cut_probability` (otherwise it lives until either side closes). The first
    /// connection of a proxy that cuts at all is always cut, within its first 4 KiB.
    pub fn start(target: SocketAddr, cut_probability: f64, max_bytes: u64, seed: u64) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let (stop2, cuts2, conns2) = (stop.clone(), cuts.clone(), connections.clone());
        thread::spawn(move || {
            let mut rng = seed | 1;
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let first = conns2.fetch_add(1, Ordering::Relaxed) == 0 && cut_probability > 0.0;
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        // The first connection is always cut within its first 4 KiB (any sync
                        // exchange is longer), so that every run meets at least one cut: with
                        // kept-alive connections a run may open only a few, and left to chance
                        // none of them might be cut.
                        let cut = first || (rng % 10_000) as f64 / 10_000.0 < cut_probability;
                        let budget = match (first, cut) {
                            (true, _) => 1 + rng.rotate_left(17) % 4096,
                            (false, true) => rng.rotate_left(17) % max_bytes.max(1),
                            (false, false) => u64::MAX,
                        };
                        let Ok(server) = TcpStream::connect(target) else { continue };
                        let _ = client.set_nonblocking(false);
                        pipe_pair(client, server, budget, cuts2.clone());
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(2)),
                    Err(_) => break,
                }
            }
        });
        FlakyProxy { addr, stop, cuts, connections }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies both ways until `budget` bytes have passed in total, then cuts both sockets.
fn pipe_pair(client: TcpStream, server: TcpStream, budget: u64, cuts: Arc<AtomicU64>) {
    let passed = Arc::new(AtomicU64::new(0));
    let cut_once = Arc::new(AtomicBool::new(false));
    let pairs = [
        (client.try_clone().unwrap(), server.try_clone().unwrap()),
        (server, client),
    ];
    for (mut from, mut to) in pairs {
        let (passed, cut_once, cuts) = (passed.clone(), cut_once.clone(), cuts.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let before = passed.fetch_add(n as u64, Ordering::Relaxed);
                if before + n as u64 > budget {
                    // Forward only what fits the budget, then drop the line.
                    let allowed = budget.saturating_sub(before) as usize;
                    let _ = to.write_all(&buf[..allowed.min(n)]);
                    if !cut_once.swap(true, Ordering::Relaxed) {
                        cuts.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn round_trip(proxy: &FlakyProxy, bytes: usize) -> usize {
        let mut s = TcpStream::connect(proxy.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = s.write_all(&vec![b'x'; bytes]);
        let mut got = 0;
        let mut buf = [0u8; 1024];
        while got < bytes {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        got
    }

    #[test]
    fn a_reliable_proxy_passes_everything_and_a_flaky_one_cuts() {
        let target = echo_server();
        let reliable = FlakyProxy::start(target, 0.0, 100, 1);
        assert_eq!(round_trip(&reliable, 5000), 5000);
        let flaky = FlakyProxy::start(target, 1.0, 100, 7);
        assert!(round_trip(&flaky, 5000) < 4096, "the first connection is cut within 4 KiB");
        assert!(round_trip(&flaky, 5000) < 100, "later ones within the byte budget");
        assert_eq!(flaky.cuts.load(Ordering::Relaxed), 2);
        // Rarely cutting, it still cuts the first connection.
        let rare = FlakyProxy::start(target, 0.0001, 100, 3);
        assert!(round_trip(&rare, 5000) < 4096);
        assert_eq!(round_trip(&rare, 5000), 5000);
    }
}
