//! How WebKitGTK is set up on Linux so the app's idle memory stays low: which GPU paths and
//! JavaScript JIT tiers are switched off before GTK starts ([`configure_env`]) and the web
//! process's memory-pressure settings ([`install_memory_pressure_settings`]). Figures:
//! `scripts/measure-desktop.sh`, README.

use std::ffi::{CStr, OsString};
use std::path::Path;
use std::sync::OnceLock;

use std::sync::atomic::{AtomicBool, Ordering};

use webkit2gtk::ffi as wk;
use webkit2gtk::glib::gobject_ffi as gobj;
use webkit2gtk::glib::translate::{from_glib_full, ToGlibPtr};
use webkit2gtk::glib::value::ToValue;
use webkit2gtk::MemoryPressureSettings;

/// The web process's memory budget. WebKit measures the process's dirty anonymous memory every
/// poll; above the conservative line (48 MB) it drops caches it can rebuild and hands freed heap
/// back to the system (`malloc_trim`), above the strict line (96 MB) it also collects garbage.
/// Without it freed malloc heap stays with the process for good: before the UI cached its Intl
/// formatters, loading Today left ~20 MB of it, which the first poll returned. The idle Today
/// screen (~40 MB) stays under the line, so there a poll costs one read of `/proc/self/smaps`;
/// heavier screens (PDF preview, signature pad) get their leftovers back within a poll.
/// Never killed (kill threshold 0).
const MEMORY_LIMIT_MB: u32 = 160;
const CONSERVATIVE_FRACTION: f64 = 0.3;
const STRICT_FRACTION: f64 = 0.6;
const POLL_INTERVAL_S: f64 = 5.0;

/// Environment for WebKitGTK, JavaScriptCore and GDK, set first thing in `main` (before GTK or
/// any thread starts; WebKit's helper processes inherit it) and never over a value the user set.
/// With accelerated compositing off the web process paints in software into shared memory, so
/// nothing in the app process needs OpenGL; without these GDK (GLX visual probe) and WebKit's UI
/// side (DMA-BUF renderer and DRM device probes) each initialise Mesa, which maps LLVM (~20 MB
/// PSS) into the app process as well.
pub fn configure_env() {
    let render_node = first_render_node(Path::new("/dev/dri"));
    for (name, value) in unset_defaults(env_defaults(render_node), |n| std::env::var_os(n)) {
        std::env::set_var(name, value);
    }
}

/// The defaults whose variable the user has not set (`get` reads the environment).
fn unset_defaults(
    defaults: Vec<(&'static str, OsString)>,
    get: impl Fn(&str) -> Option<OsString>,
) -> Vec<(&'static str, OsString)> {
    defaults
        .into_iter()
        .filter(|(name, _)| get(name).is_none())
        .collect()
}

/// The variables [`configure_env`] sets, given the machine's first DRM render node.
fn env_defaults(render_node: Option<OsString>) -> Vec<(&'static str, OsString)> {
    vec![
        // Accelerated compositing keeps GPU/shared-memory surfaces per page for a forms UI with
        // nothing to composite (web process 260 → 162 MB), and avoids the blank window some
        // GPU drivers show.
        ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".into()),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".into()),
        ("GDK_GL", "disable".into()),
        // JavaScriptCore's JIT tiers off, in the web process and the app's own JSC: the UI's
        // scripts are small and event-driven, and its interpreter runs them about as fast here.
        // The JIT's compiled code, its compilers' working memory and the compiler pages of
        // libjavascriptcoregtk it touches came to ~9 MB PSS at idle (web process 135 → 127 MB
        // with Today's 50 rows), while the 2-page service report's PDF preview (pdf.js, the
        // heaviest script) renders in 210–280 ms without it against 180–350 ms with it, and
        // start-up is unchanged (README). The interpreter also needs no writable+executable
        // memory. `JSC_useJIT=1` turns it back on.
        ("JSC_useJIT", "0".into()),
        // Naming the render node spares the UI process an EGL display just to ask Mesa which
        // device it is; on a machine without one (software rendering) the name that would be
        // the first node is given, which the web process fails to open exactly as Mesa would.
        (
            "WEBKIT_WEB_RENDER_DEVICE_FILE",
            render_node.unwrap_or_else(|| "/dev/dri/renderD128".into()),
        ),
    ]
}

/// `renderD*` in `dir` with the lowest number, as WebKit's own DRM fallback would pick.
fn first_render_node(dir: &Path) -> Option<OsString> {
    let mut nodes: Vec<(u32, OsString)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let path = e.ok()?.path();
            let n = path
                .file_name()?
                .to_str()?
                .strip_prefix("renderD")?
                .parse()
                .ok()?;
            Some((n, path.into_os_string()))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().next().map(|(_, p)| p)
}

type SetProperty =
    unsafe extern "C" fn(*mut gobj::GObject, u32, *mut gobj::GValue, *mut gobj::GParamSpec);

static WEB_CONTEXT_SET_PROPERTY: OnceLock<SetProperty> = OnceLock::new();
/// Whether a web context has been given [`memory_pressure_settings`] (for tests).
static SUPPLIED: AtomicBool = AtomicBool::new(false);

fn memory_pressure_settings() -> MemoryPressureSettings {
    // SAFETY: a new boxed value, owned from here on. (The safe `new` asserts that GTK is
    // initialised, which WebKit's function does not need; the hook runs inside GTK either way.)
    let mut settings: MemoryPressureSettings =
        unsafe { from_glib_full(wk::webkit_memory_pressure_settings_new()) };
    settings.set_memory_limit(MEMORY_LIMIT_MB);
    settings.set_conservative_threshold(CONSERVATIVE_FRACTION);
    settings.set_strict_threshold(STRICT_FRACTION);
    settings.set_kill_threshold(0.0);
    settings.set_poll_interval(POLL_INTERVAL_S);
    settings
}

/// `WebKitWebContext`'s `set_property`: gives the construct-only `memory-pressure-settings` ours
/// when the creator (wry) left it unset, and passes everything else on unchanged.
unsafe extern "C" fn web_context_set_property(
    object: *mut gobj::GObject,
    id: u32,
    value: *mut gobj::GValue,
    pspec: *mut gobj::GParamSpec,
) {
    let original = WEB_CONTEXT_SET_PROPERTY
        .get()
        .expect("set before the hook is installed");
    if CStr::from_ptr((*pspec).name).to_bytes() == b"memory-pressure-settings"
        && gobj::g_value_get_boxed(value).is_null()
    {
        let ours = memory_pressure_settings().to_value();
        original(
            object,
            id,
            ours.to_glib_none().0 as *mut gobj::GValue,
            pspec,
        );
        SUPPLIED.store(true, Ordering::Relaxed);
    } else {
        original(object, id, value, pspec);
    }
}

/// Gives every web process this app starts the memory-pressure settings above. They can only
/// be passed when a `WebKitWebContext` is constructed, and wry constructs it without them, so
/// the class's property setter supplies them. Call on the main thread before any webview.
pub fn install_memory_pressure_settings() {
    // SAFETY: the class struct is WebKit's and lives as long as the process (the reference taken
    // here is never dropped); its vfunc is replaced once, before any context exists, and the
    // replacement forwards every call to the original.
    unsafe {
        let class =
            gobj::g_type_class_ref(wk::webkit_web_context_get_type()) as *mut gobj::GObjectClass;
        if let Some(original) = (*class).set_property {
            if WEB_CONTEXT_SET_PROPERTY.set(original).is_ok() {
                (*class).set_property = Some(web_context_set_property);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_defaults_name_the_render_node_or_the_first_one_there_would_be() {
        let found = env_defaults(Some("/dev/dri/renderD129".into()));
        assert!(found.contains(&(
            "WEBKIT_WEB_RENDER_DEVICE_FILE",
            "/dev/dri/renderD129".into()
        )));
        assert!(found.contains(&("WEBKIT_DISABLE_COMPOSITING_MODE", "1".into())));
        assert!(found.contains(&("GDK_GL", "disable".into())));
        let none = env_defaults(None);
        assert!(none.contains(&(
            "WEBKIT_WEB_RENDER_DEVICE_FILE",
            "/dev/dri/renderD128".into()
        )));
    }

    #[test]
    fn env_defaults_turn_the_javascript_jit_off() {
        assert!(env_defaults(None).contains(&("JSC_useJIT", "0".into())));
    }

    #[test]
    fn a_variable_the_user_set_is_never_overridden() {
        let defaults = env_defaults(None);
        let user =
            |name: &str| (name == "JSC_useJIT" || name == "GDK_GL").then(|| OsString::from("1"));
        let set = unset_defaults(defaults.clone(), user);
        assert!(set
            .iter()
            .all(|(name, _)| *name != "JSC_useJIT" && *name != "GDK_GL"));
        assert_eq!(set.len(), defaults.len() - 2);
        // Nothing set by the user: every default applies.
        assert_eq!(unset_defaults(defaults.clone(), |_| None), defaults);
    }

    #[test]
    fn first_render_node_picks_the_lowest_number_and_ignores_other_nodes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["card0", "renderD130", "renderD129", "renderDx"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            first_render_node(dir.path()),
            Some(dir.path().join("renderD129").into_os_string())
        );
        assert_eq!(first_render_node(&dir.path().join("missing")), None);
    }

    #[test]
    fn web_contexts_get_our_memory_pressure_settings() {
        let mut settings = memory_pressure_settings();
        assert_eq!(settings.memory_limit(), MEMORY_LIMIT_MB);
        assert_eq!(settings.conservative_threshold(), CONSERVATIVE_FRACTION);
        assert_eq!(settings.strict_threshold(), STRICT_FRACTION);
        assert_eq!(settings.kill_threshold(), 0.0);
        assert_eq!(settings.poll_interval(), POLL_INTERVAL_S);

        install_memory_pressure_settings();
        // Building a context needs a display; what the hook relies on is checked instead: WebKit
        // still has the construct-only property (set at every construction), and the class's
        // setter is ours.
        unsafe {
            let class = gobj::g_type_class_peek(wk::webkit_web_context_get_type())
                as *mut gobj::GObjectClass;
            assert!(!class.is_null());
            let pspec =
                gobj::g_object_class_find_property(class, c"memory-pressure-settings".as_ptr());
            assert!(
                !pspec.is_null(),
                "WebKitWebContext has no memory-pressure-settings property"
            );
            assert_ne!((*pspec).flags & gobj::G_PARAM_CONSTRUCT_ONLY, 0);
            assert_eq!(
                (*pspec).value_type,
                wk::webkit_memory_pressure_settings_get_type()
            );
            let setter = (*class).set_property.map(|f| f as usize);
            assert_eq!(
                setter,
                Some(web_context_set_property as SetProperty as usize)
            );
        }
        assert!(
            !SUPPLIED.load(Ordering::Relaxed),
            "no context was built in this test"
        );
    }
}
