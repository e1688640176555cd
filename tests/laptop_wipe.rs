//! Issue #13 through the real `fieldbook` binary, in a home folder of its own (`HOME`,
//! `XDG_DATA_HOME`, `XDG_CONFIG_HOME`, `XDG_CACHE_HOME`, `XDG_RUNTIME_DIR`, `TMPDIR` all in a
//! temporary folder, the store at its default place): the offline lock refuses data commands
//! but not sync and status, and `fieldbook wipe` leaves nothing of Fieldbook's behind.

use std::path::PathBuf;
use std::process::Command;

use fieldbook_scenarios::{bin, repo_root, Run};

/// A home folder of its own; the folders the laptop keeps things in are inside.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let h = Home { dir: tempfile::tempdir().unwrap() };
        for d in ["data", "config", "cache", "run", "tmp"] {
            std::fs::create_dir_all(h.path(d)).unwrap();
        }
        h
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn store(&self) -> PathBuf {
        self.path("data/fieldbook/fieldbook.db")
    }

    fn run(&self, args: &[&str]) -> Run {
        Command::new(bin("fieldbook"))
            .args(args)
            .env_remove("FIELDBOOK_DB")
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("TMPDIR", self.path("tmp"))
            // No keyring in this home: the store is protected by a passphrase.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("FIELDBOOK_KEY_FILE")
            .env_remove("FIELDBOOK_UNLOCK")
            .env("FIELDBOOK_PASSPHRASE", PASSPHRASE)
            .output()
            .unwrap()
            .into()
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert!(r.ok, "fieldbook {args:?} failed:\n{}\n{}", r.stdout, r.stderr);
        r
    }

    /// Every file and folder under the home, relative, sorted.
    fn listing(&self) -> Vec<String> {
        fieldbook_testkit::listing(self.dir.path())
    }
}

/// A laptop with the demo company, one unsynced photo, and what the desktop app leaves behind:
/// the web view's data and caches, a temporary report, a migration leftover beside the store.
/// What protects the test laptop's store: there is no keyring in its home.
const PASSPHRASE: &str = "wipe test passphrase";

fn used_laptop() -> Home {
    let h = Home::new();
    h.ok(&["init", "--technician", "li.wei"]);
    let demo = repo_root().join("demo/fire-protection.json");
    h.ok(&["import", demo.to_str().unwrap(), "--rebase-dates"]);
    std::fs::write(h.path("photo.jpg"), b"\xff\xd8 a photo").unwrap();
    h.ok(&["attach", h.path("photo.jpg").to_str().unwrap()]);
    std::fs::remove_file(h.path("photo.jpg")).unwrap();
    for (file, body) in [
        ("data/com.fieldbook.desktop/localstorage/http_tauri.localhost_0.localstorage", "lang=zh-CN"),
        ("data/fieldbook-desktop/storage/salt", "x"),
        ("cache/com.fieldbook.desktop/WebKitCache/Version 16/Records/abc", "cached page"),
        ("config/com.fieldbook.desktop/window-state.json", "{}"),
        ("run/fieldbook-reports-a1b2c3/WO-1001.pdf", "%PDF report"),
        ("tmp/fieldbook-reports-d4e5f6/WO-1002.pdf", "%PDF report"),
        // A protection file's write cut short (what opening the store cleans up itself, such as a
        // half-made `.encrypting` copy, would be gone before the wipe).
        ("data/fieldbook/fieldbook.db.protection.json.tmp", "{\"format\": 1"),
    ] {
        let p = h.path(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    // Not Fieldbook's: must stay.
    std::fs::create_dir_all(h.path("data/other-app")).unwrap();
    std::fs::write(h.path("data/other-app/notes.txt"), "mine").unwrap();
    std::fs::write(h.path("tmp/unrelated.txt"), "mine").unwrap();
    h
}

#[test]
fn wipe_refuses_unsynced_work_then_removes_everything_of_fieldbooks() {
    let h = used_laptop();
    assert!(h.store().exists());
    assert!(h.listing().iter().any(|p| p.contains("fieldbook.db.attachments/")));

    // One change has not reached the server: refused, nothing removed.
    let before = h.listing();
    let r = h.run(&["--json", "wipe"]);
    assert!(!r.ok);
    let e = r.error_json();
    assert!(e["error"]["message"].as_str().unwrap().contains("not synced yet"), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("--force"), "{e}");
    assert_eq!(h.listing(), before);

    let r = h.ok(&["--json", "wipe", "--force"]);
    assert!(!r.json()["removed"].as_array().unwrap().is_empty());
    // Nothing of Fieldbook's is left in the data, config, cache, runtime and temporary folders.
    assert_eq!(h.listing(), ["cache", "config", "data", "data/other-app", "data/other-app/notes.txt", "run", "tmp", "tmp/unrelated.txt"]);

    // Again: nothing to do, no error; other commands find no store.
    assert!(h.ok(&["wipe"]).stdout.contains("nothing was left"));
    assert!(!h.run(&["orders"]).ok);
}

#[test]
fn a_laptop_past_its_offline_limit_refuses_data_commands_but_not_status_sync_or_wipe() {
    let h = used_laptop();
    // As if the last sync brought a 3-day limit and was ten days ago.
    // Edited behind Fieldbook's back, with the key its passphrase unlocks.
    let key = fieldbook_core::at_rest::unlock(&h.store(), &fieldbook_core::at_rest::Unlock::Passphrase(PASSPHRASE.to_owned().into())).unwrap();
    let db = rusqlite::Connection::open(h.store()).unwrap();
    fieldbook_core::at_rest::encrypt::apply_key(&db, &key).unwrap();
    db.execute_batch(
        "INSERT INTO settings(key, value) VALUES ('offline_lock_days', '3');
         UPDATE sync_state SET last_success_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 days') WHERE id = 1;",
    )
    .unwrap();
    drop(db);
    for args in [&["orders"][..], &["show", "WO-1001"], &["outbox"], &["en-route", "WO-1001"], &["daily-report"]] {
        let r = h.run(&[&["--json"][..], args].concat());
        assert!(!r.ok, "{args:?} must be refused while locked");
        let e = r.error_json();
        assert_eq!(e["error"]["kind"], "offline_locked", "{args:?}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("10 day(s) (limit 3"), "{e}");
    }
    // Status says why; the outbox is kept.
    let status = h.ok(&["--json", "status"]).json();
    assert_eq!(status["offline_lock"]["limit_days"], 3);
    assert_eq!(status["pending_changes"], 1);
    assert!(h.ok(&["status"]).stdout.contains("LOCKED:"));
    // Sync is not refused for the lock (it fails here only because there is no server).
    let r = h.run(&["--json", "sync"]);
    assert_ne!(r.error_json()["error"]["kind"], "offline_locked", "{}", r.stderr);
}
