//! The `fieldbook` command and a laptop store at rest (#13): a plaintext store from an older
//! Fieldbook is encrypted in place by the first command that opens it, and a SIGKILL at any
//! moment of that leaves the old store or the new one, with nothing lost; the passphrase path
//! works without a keyring; the key is in no file of the data folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldbook_core::at_rest::{encrypt::is_plaintext, StoreKey};
use fieldbook_core::import::ImportDocument;
use fieldbook_core::Store;
use rusqlite::Connection;

const DEMO: &str = include_str!("../../../demo/fire-protection.json");
const KEY: [u8; 32] = [0x3c; 32];
/// Time entries added to the demo so the export takes long enough to be killed inside.
const FILLER: usize = 20_000;

fn fieldbook(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
    c.arg("--db").arg(db).env_remove("FIELDBOOK_DB").env_remove("FIELDBOOK_UNLOCK").env_remove("FIELDBOOK_KEY_FILE").env_remove("FIELDBOOK_PASSPHRASE");
    c
}

/// A plaintext store as an older Fieldbook left it, with unsynced work. Returns its outbox length.
fn plaintext_store(path: &Path) -> i64 {
    let mut s = Store::open_unencrypted_for_benchmarks(path).unwrap();
    s.import(&ImportDocument::from_json(DEMO, "demo").unwrap(), "demo").unwrap();
    s.set_technician("wang.wei").unwrap();
    s.write(|tx| {
        for i in 0..FILLER {
            tx.put("time_entries", &format!("00000000-0000-7000-8000-{i:012}"), &[
                ("technician", "wang.wei".into()),
                ("work_date", "2026-03-02".into()),
                ("category", "B".into()),
                ("minutes", 30.into()),
                ("note", format!("drive to 金桥国际商业广场 #{i}").into()),
                ("deleted", false.into()),
            ])?;
        }
        Ok(())
    })
    .unwrap();
    s.attach_bytes("photo of pump 2, 金桥国际商业广场".as_bytes(), "image/jpeg", Some("pump.jpg")).unwrap();
    let n = s.outbox_len().unwrap();
    drop(s);
    n
}

/// The outbox length of the store at `path`, whichever form it is in (read as any SQLite client
/// would: a WAL left by a kill is recovered, nothing else changes); fails the test if it is in
/// neither.
fn outbox_len(path: &Path) -> (bool, i64) {
    let plain = is_plaintext(path).unwrap();
    let conn = Connection::open(path).unwrap();
    if !plain {
        fieldbook_core::at_rest::encrypt::apply_key(&conn, &StoreKey::from_bytes(KEY)).unwrap();
    }
    let n = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap_or_else(|e| panic!("the store at {} is neither plaintext nor encrypted under the key: {e}", path.display()));
    (plain, n)
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

#[test]
fn encrypting_a_plaintext_store_survives_sigkill_at_random_points() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    let expected = plaintext_store(&template);
    let key_file = dir.path().join("laptop.key");
    std::fs::write(&key_file, hex::encode(KEY)).unwrap();
    let work_dir = dir.path().join("laptop");
    std::fs::create_dir(&work_dir).unwrap();
    let work = work_dir.join("fieldbook.db");
    let fresh_copy = || {
        std::fs::remove_dir_all(&work_dir).unwrap();
        std::fs::create_dir(&work_dir).unwrap();
        std::fs::copy(&template, &work).unwrap();
        let att = sibling(&template, ".attachments");
        copy_dir(&att, &sibling(&work, ".attachments"));
    };
    let status = |db: &Path| {
        let mut c = fieldbook(db);
        c.arg("--key-file").arg(&key_file).arg("status").stdout(Stdio::null()).stderr(Stdio::piped());
        c
    };

    // How long a whole migration takes here, so kills land inside it.
    fresh_copy();
    let t = Instant::now();
    let out = status(&work).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let whole = t.elapsed();
    assert_eq!(outbox_len(&work), (false, expected));

    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let mut next = |below: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % below.max(1)
    };
    let (mut kills, mut finished, mut seen_plain, mut seen_encrypted) = (0, 0, 0, 0);
    fresh_copy();
    while kills < 24 {
        let mut child = status(&work).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(next(whole.as_micros() as u64 * 11 / 10)));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap();
                kills += 1;
            }
        }
        child.wait().unwrap();
        // Old or new, never neither, and never a record short.
        let (plain, n) = outbox_len(&work);
        assert_eq!(n, expected, "after kill {kills}: the {} store lost unsynced work", if plain { "plaintext" } else { "encrypted" });
        if plain {
            seen_plain += 1;
        } else {
            seen_encrypted += 1;
            // Done: start again from the plaintext store for the next kills.
            fresh_copy();
        }
    }
    eprintln!("{kills} kills ({seen_plain} left it plaintext, {seen_encrypted} encrypted), {finished} runs finished; a whole run takes {whole:?}");
    assert!(seen_plain > 0, "no kill landed before the swap; the store is too small to test this");

    // The last state, whatever it is, finishes into an encrypted store with everything in it.
    let out = status(&work).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(outbox_len(&work), (false, expected));
    let s = Store::open(&work, &StoreKey::from_bytes(KEY)).unwrap();
    let att: String = s.connection().query_row("SELECT id FROM attachments", [], |r| r.get(0)).unwrap();
    assert_eq!(s.attachment_bytes(&att).unwrap(), "photo of pump 2, 金桥国际商业广场".as_bytes());
    drop(s);
    let leftovers: Vec<_> = std::fs::read_dir(&work_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".encrypting") || n.ends_with(".plaintext")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let found = files_containing(&work_dir, &["金桥国际商业广场", "wang.wei", &hex::encode(KEY)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn without_a_keyring_the_store_is_protected_by_a_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fieldbook.db");
    // No keyring daemon for this process, whatever the machine has.
    let no_keyring = |c: &mut Command| {
        c.env_remove("DBUS_SESSION_BUS_ADDRESS").env_remove("DISPLAY").env("XDG_RUNTIME_DIR", dir.path());
    };
    let mut init = fieldbook(&db);
    no_keyring(&mut init);
    let out = init.args(["init", "--technician", "wang.wei"]).stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success(), "a new store with no keyring and no terminal must not be created unprotected");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FIELDBOOK_PASSPHRASE"), "{err}");
    assert!(!db.exists() || std::fs::metadata(&db).unwrap().len() == 0, "nothing was written");

    let mut init = fieldbook(&db);
    no_keyring(&mut init);
    let out = init.args(["init", "--technician", "wang.wei"]).env("FIELDBOOK_PASSPHRASE", "陈师傅 spring 2026").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let protection = std::fs::read_to_string(sibling(&db, ".protection.json")).unwrap();
    assert!(protection.contains("\"passphrase\"") && protection.contains("argon2id"), "{protection}");

    let mut wrong = fieldbook(&db);
    no_keyring(&mut wrong);
    let out = wrong.arg("status").env("FIELDBOOK_PASSPHRASE", "陈师傅 autumn 2026").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"), "{}", String::from_utf8_lossy(&out.stderr));

    let mut right = fieldbook(&db);
    no_keyring(&mut right);
    let out = right.args(["--json", "status"]).env("FIELDBOOK_PASSPHRASE", "陈师傅 spring 2026").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found = files_containing(dir.path(), &["wang.wei", "陈师傅"]);
    assert!(found.is_empty(), "{found:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    if !from.exists() {
        return;
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Every file under `dir` that holds one of `needles` (as UTF-8), byte for byte.
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    fieldbook_testkit::files_containing(dir, &needles.iter().map(|n| n.as_bytes()).collect::<Vec<_>>())
}
