//! An empty Tauri 2 app — default settings, one static page — built with the same cargo profile
//! and WebKitGTK as `fieldbook-desktop`, so `scripts/measure-desktop.sh` can hold Fieldbook's
//! idle memory against what the platform itself costs. The only addition to the template is the
//! measurement line: with `FIELDBOOK_MEASURE=1` it prints `ui-ready-ms=N` (since the process
//! started) once the page has loaded, as Fieldbook does once its Today list has rendered.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;
use std::time::Instant;

use tauri::webview::PageLoadEvent;

fn main() {
    let started = Instant::now();
    let measure = std::env::var_os("FIELDBOOK_MEASURE").is_some_and(|v| v == "1");
    tauri::Builder::default()
        .on_page_load(move |_webview, payload| {
            if measure && payload.event() == PageLoadEvent::Finished {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "ui-ready-ms={}", started.elapsed().as_millis());
                let _ = out.flush();
            }
        })
        .run(tauri::generate_context!())
        .expect("the empty Tauri app failed to start");
}
