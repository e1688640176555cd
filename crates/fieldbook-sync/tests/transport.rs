//! What the client accepts from the network (issue 10, finding 9): plain `http://` only to this
//! computer unless the user allows it (so a revocation cannot come from someone on the same
//! network), and answers no larger than its limits, refused while they arrive.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldbook_core::Store;
use fieldbook_sync::{ClientOptions, SyncClient, SyncError};
use support::Mock;

fn laptop(dir: &tempfile::TempDir, options: ClientOptions) -> SyncClient {
    let store = Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    SyncClient::with_options(Arc::new(Mutex::new(store)), options).unwrap()
}

/// Options under which `office.example` is the mock server: a name that is not this computer's,
/// reached without DNS.
fn office_example(addr: SocketAddr) -> ClientOptions {
    ClientOptions { request_timeout: Duration::from_secs(10), resolve: vec![("office.example".into(), addr)], ..ClientOptions::default() }
}

#[tokio::test]
async fn plain_http_to_another_computer_is_refused_unless_allowed_and_then_warned_about() {
    let mock = Mock::with_demo().await;
    let url = format!("http://office.example:{}", mock.addr.port());
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir, office_example(mock.addr));

    // Enrolling: refused before anything is sent, the message naming both ways out.
    let code = mock.code("INSECURE-1", "li.wei");
    let e = client.enroll(&url, &code).await.unwrap_err();
    assert!(matches!(e, SyncError::InsecureHttp { .. }), "{e:?}");
    assert_eq!(e.kind(), "insecure_http");
    let m = e.to_string();
    assert!(m.contains(&url) && m.contains("https://") && m.contains("--allow-insecure-http"), "{m}");
    assert!(mock.state().requests.is_empty(), "nothing was sent: {:?}", mock.state().requests);

    // Allowed explicitly: it enrols, the permission is stored, and every sync warns.
    let allowing = SyncClient::with_options(client.store().clone(), ClientOptions { allow_insecure_http: true, ..office_example(mock.addr) }).unwrap();
    allowing.enroll(&url, &code).await.unwrap();
    assert!(client.store().lock().unwrap().sync_status().unwrap().allow_insecure_http);
    let r = client.sync_once().await.unwrap();
    assert!(r.pulled > 0);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("unencrypted http://") && r.warnings[0].contains(&url), "{:?}", r.warnings);
}

#[tokio::test]
async fn a_revocation_with_a_wipe_order_cannot_come_over_plain_http_from_another_computer() {
    let mock = Mock::with_demo().await;
    let token = mock.device("laptop-1", "li.wei");
    mock.revoke_all("laptop reported stolen", true);
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir, office_example(mock.addr));
    // Enrolled before this check existed (or the address was changed behind its back).
    client.store().lock().unwrap().set_enrolment(&format!("http://office.example:{}", mock.addr.port()), &token, "li.wei").unwrap();

    let e = client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::InsecureHttp { .. }), "{e:?}");
    assert!(mock.state().requests.is_empty(), "nothing was sent: {:?}", mock.state().requests);
    let status = client.store().lock().unwrap().sync_status().unwrap();
    assert_eq!(status.revoked_reason, None, "no revocation was taken from the network");
    assert!(status.last_error.unwrap().contains("--allow-insecure-http"));
    // The probe of the background loop goes nowhere either.
    assert!(matches!(client.probe().await.unwrap_err(), SyncError::InsecureHttp { .. }));
    assert!(mock.state().requests.is_empty());
}

#[tokio::test]
async fn plain_http_to_this_computer_still_works_without_a_warning() {
    let mock = Mock::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir, ClientOptions { request_timeout: Duration::from_secs(10), ..ClientOptions::default() });
    let code = mock.code("LOCAL-1", "li.wei");
    client.enroll(&format!("http://localhost:{}", mock.addr.port()), &code).await.unwrap();
    let r = client.sync_once().await.unwrap();
    assert!(r.pulled > 0 && r.warnings.is_empty(), "{r:?}");
    assert!(!client.store().lock().unwrap().sync_status().unwrap().allow_insecure_http, "nothing needed allowing");
}

/// A raw HTTP/1.1 server on 127.0.0.1 that answers every request with `head` and then whatever
/// `body` writes (chunked), until the client hangs up. Returns its address and the bytes written.
fn raw_server(head: &'static str, body: impl Fn(&mut dyn Write) -> std::io::Result<()> + Send + Sync + 'static) -> (SocketAddr, Arc<Mutex<u64>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(Mutex::new(0u64));
    let counter = written.clone();
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (body, counter) = (body.clone(), counter.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let mut out = Chunked { inner: stream, written: counter };
                let _ = out.inner.write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}Transfer-Encoding: chunked\r\n\r\n").as_bytes());
                let _ = body(&mut out);
            });
        }
    });
    (addr, written)
}

/// Writes HTTP chunks, counting the body bytes.
struct Chunked {
    inner: std::net::TcpStream,
    written: Arc<Mutex<u64>>,
}

impl Write for Chunked {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(format!("{:x}\r\n", b.len()).as_bytes())?;
        self.inner.write_all(b)?;
        self.inner.write_all(b"\r\n")?;
        *self.written.lock().unwrap() += b.len() as u64;
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A laptop enrolled (directly in its store) with the server at `addr`.
fn enrolled(dir: &tempfile::TempDir, addr: SocketAddr, options: ClientOptions) -> SyncClient {
    let client = laptop(dir, options);
    client.store().lock().unwrap().set_enrolment(&format!("http://{addr}"), "token", "li.wei").unwrap();
    client
}

#[tokio::test]
async fn an_endless_answer_is_refused_once_it_passes_the_size_limit() {
    let (addr, written) = raw_server("", |out| loop {
        out.write_all(&[b' '; 64 * 1024])?;
    });
    let dir = tempfile::tempdir().unwrap();
    let options = ClientOptions { request_timeout: Duration::from_secs(30), max_response_bytes: 4 * 1024 * 1024, ..ClientOptions::default() };
    let client = enrolled(&dir, addr, options);
    let started = Instant::now();
    let e = client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::TooLarge { decompressed: false, limit: 4194304, .. }), "{e:?}");
    assert_eq!(e.kind(), "too_large");
    let m = e.to_string();
    assert!(m.contains("larger than this laptop accepts (more than 4 MiB as received)") && m.contains("the token check"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(20), "refused while arriving, not at the timeout: {:?}", started.elapsed());
    // The server could write a little past the limit into the socket's buffers, not more.
    std::thread::sleep(Duration::from_millis(200));
    assert!(*written.lock().unwrap() < 16 * 1024 * 1024, "{} bytes", written.lock().unwrap());
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_once_it_decompresses_past_the_limit() {
    // An endless stream of zeros, gzip-compressed as it is written: about a thousandth of its
    // size on the wire.
    let (addr, written) = raw_server("Content-Encoding: gzip\r\n", |out| {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let zeros = vec![0u8; 1024 * 1024];
        loop {
            gz.write_all(&zeros)?;
            gz.flush()?;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let options = ClientOptions { request_timeout: Duration::from_secs(30), max_decompressed_bytes: 8 * 1024 * 1024, ..ClientOptions::default() };
    let client = enrolled(&dir, addr, options);
    let started = Instant::now();
    let e = client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::TooLarge { decompressed: true, .. }), "{e:?}");
    assert!(e.to_string().contains("more than 8 MiB once decompressed"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(*written.lock().unwrap() < 1024 * 1024, "it was the decompressed size that was refused");
}
