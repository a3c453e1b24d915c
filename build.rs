// SPDX-License-Identifier: GPL-2.0-or-later
//! Build script.
//!
//! Without a host feature it does nothing: `cargo build` / `cargo test` need
//! no PBX headers and no libclang.
//!
//! With feature `asterisk`:
//! - finds the Asterisk headers: `$HOTLINE_ASTERISK_INCLUDE`, else
//!   `target/asterisk-include` in the crate directory (filled by
//!   `docker/pbx headers target/asterisk-include`);
//! - generates `$OUT_DIR/asterisk_bindings.rs` with bindgen from
//!   `include/hotline_asterisk.h`, allowlisting only what `src/asterisk/`
//!   uses;
//! - compiles the C shim `include/hotline_asterisk.c` (module descriptor,
//!   wrappers for Asterisk macros/inline/varargs functions) with cc.
//!
//! With feature `freeswitch`:
//! - finds the FreeSWITCH headers: `$HOTLINE_FREESWITCH_INCLUDE`, else
//!   `pkg-config --cflags freeswitch`, else `$HOTLINE_FREESWITCH/include/freeswitch`,
//!   else `/usr/local/freeswitch/include/freeswitch`;
//! - generates `$OUT_DIR/freeswitch_bindings.rs` with bindgen from
//!   `include/hotline_freeswitch.h` (opaque handles, the module function
//!   table, the shim);
//! - compiles the C shim `include/hotline_freeswitch.c` (wrappers for
//!   FreeSWITCH macros/varargs functions) into a static library. The module
//!   descriptor `mod_hotline_module_interface` is a Rust static, so no
//!   descriptor object is needed.
//!
//! The two features cannot be combined (one libhotline.so, one PBX).

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let want_asterisk = env::var_os("CARGO_FEATURE_ASTERISK").is_some();
    let want_freeswitch = env::var_os("CARGO_FEATURE_FREESWITCH").is_some();
    if want_asterisk && want_freeswitch {
        fail(
            "\n\nfeatures \"asterisk\" and \"freeswitch\" cannot be built together: each makes\n\
             libhotline.so a module of its PBX. Build one at a time, e.g.\n    \
             cargo build --release --features asterisk\n    \
             cargo build --release --features freeswitch\n\n",
        );
    }
    if want_asterisk {
        asterisk::build();
    }
    if want_freeswitch {
        freeswitch::build();
    }
}

/// Stop the build with a message (no panic backtrace: this is a setup
/// problem, not a bug).
fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1);
}

/// Include a Cargo "rerun" line for a file or directory.
fn rerun_if_changed(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

mod asterisk {
    use super::*;

    const ENV_INCLUDE: &str = "HOTLINE_ASTERISK_INCLUDE";

    /// Definitions Asterisk's own build system passes to every module; both
    /// clang (bindgen) and cc get the same list so they see the same types.
    const DEFINES: &[(&str, &str)] = &[
        ("_GNU_SOURCE", "1"),
        ("_REENTRANT", "1"),
        // Name the loader knows the module by; must match app_hotline.so.
        ("AST_MODULE", "\"app_hotline\""),
        // Externally compiled modules must declare this (asterisk.h #errors
        // otherwise); AST_MODULE_INFO defines the function.
        ("AST_MODULE_SELF_SYM", "__internal_app_hotline_self"),
    ];

    /// Functions bound for Rust. Macros, static inline and varargs
    /// functions are wrapped by the shim instead (`hotline_*`).
    const FUNCTIONS: &[&str] = &[
        // channel life cycle and media
        "ast_answer",
        "ast_hangup",
        "ast_request",
        "ast_call",
        "ast_bridge_call",
        "ast_waitfor_n",
        "ast_read",
        "ast_write",
        "ast_indicate",
        "ast_check_hangup",
        "ast_check_hangup_locked",
        "ast_softhangup",
        "ast_safe_sleep",
        "ast_autoservice_start",
        "ast_autoservice_stop",
        // channel accessors
        "ast_channel_name",
        "ast_channel_uniqueid",
        "ast_channel_exten",
        "ast_start_mixmonitor",
        "ast_stop_mixmonitor",
        "ast_channel_context",
        "ast_channel_linkedid",
        "ast_channel_caller",
        "ast_channel_nativeformats",
        "ast_channel_hangupcause",
        "ast_channel_language",
        "ast_channel_get_by_name",
        // variables
        "pbx_builtin_setvar_helper",
        "pbx_builtin_getvar_helper",
        // prompts
        "ast_streamfile",
        "ast_waitstream",
        "ast_stopstream",
        "ast_stream_and_wait",
        "ast_say_number",
        // device state
        "ast_devstate_str",
        // the shim (include/hotline_asterisk.c)
        "hotline_.*",
    ];

    /// Shim prototypes that Rust *defines* (#[no_mangle]); never import them.
    const RUST_DEFINED: &[&str] = &[
        "hotline_ast_load",
        "hotline_ast_unload",
        "hotline_ast_reload",
        "hotline_cli",
        "hotline_cli_free",
    ];

    const TYPES: &[&str] = &[
        "ast_frame",
        "ast_frame_type",
        "ast_control_frame_type",
        "ast_device_state",
        // (the enum only: the accessor function of the same name would
        // clash with it in Rust's single namespace)
        "ast_channel_state",
        "ast_bridge_config",
        "ast_party_caller",
        "ast_party_id",
        "ast_party_name",
        "ast_party_number",
        "ast_flags",
        "ast_module_load_result",
        "hotline_log_level",
        "hotline_ami_kind",
        "hotline_leg_prompt",
    ];

    /// Constants from `#define`s and anonymous enums.
    const VARS: &[&str] = &[
        "AST_CAUSE_.*",
        "AST_SOFTHANGUP_.*",
        "AST_FEATURE_.*",
        "AST_MAX_EXTENSION",
    ];

    pub fn build() {
        let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
        let shim_dir = crate_dir.join("include");
        let header = shim_dir.join("hotline_asterisk.h");
        let shim = shim_dir.join("hotline_asterisk.c");
        println!("cargo:rerun-if-env-changed={ENV_INCLUDE}");
        let inc = include_dir(&crate_dir);

        rerun_if_changed(&header);
        rerun_if_changed(&shim);
        // Directories: Cargo rescans them for any modified file.
        rerun_if_changed(&inc);

        let defines: Vec<String> = DEFINES
            .iter()
            .map(|(k, v)| format!("-D{k}={v}"))
            .collect();

        // ---- bindings ----------------------------------------------------
        let mut builder = bindgen::Builder::default()
            .header(header.to_string_lossy())
            .clang_arg(format!("-I{}", inc.display()))
            .clang_arg(format!("-I{}", shim_dir.display()))
            .clang_args(&defines)
            // utils.h declares RAII_VAR with Apple blocks under clang.
            .clang_arg("-fblocks")
            .layout_tests(false)
            .derive_default(true)
            .derive_debug(false)
            .generate_comments(false)
            // Asterisk enums arrive from C: a Rust enum with an unexpected
            // value would be UB, a newtype over the integer is not.
            .default_enum_style(bindgen::EnumVariation::NewType {
                is_bitfield: false,
                is_global: false,
            })
            .prepend_enum_name(false)
            // Opaque handles stay opaque.
            .opaque_type("ast_channel")
            .opaque_type("ast_format_cap")
            .opaque_type("ast_module")
            .opaque_type("ast_speech")
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
        // Generate code for the crate's declared minimum Rust version
        // (e.g. plain `extern "C"` blocks below 1.82), not the newest.
        if let Some(target) = msrv_target() {
            builder = builder.rust_target(target);
        }
        for f in FUNCTIONS {
            builder = builder.allowlist_function(f);
        }
        for f in RUST_DEFINED {
            builder = builder.blocklist_function(f);
        }
        for t in TYPES {
            builder = builder.allowlist_type(t);
        }
        for v in VARS {
            builder = builder.allowlist_var(v);
        }
        let bindings = builder.generate().unwrap_or_else(|e| {
            fail(&format!(
                "bindgen failed on {} with Asterisk headers in {}: {e}\n\
                 (bindgen needs libclang: apt-get install libclang-dev)",
                header.display(),
                inc.display()
            ))
        });
        bindings
            .write_to_file(out_dir.join("asterisk_bindings.rs"))
            .expect("write asterisk_bindings.rs");

        // ---- C shim ----------------------------------------------------------
        // include/hotline_asterisk.c is compiled twice:
        // 1. the wrappers, as a static library for everything linking the
        //    crate (the linker keeps only what Rust calls);
        // 2. with HOTLINE_MODULE_DESCRIPTOR: AST_MODULE_INFO (descriptor +
        //    constructor) and the load/unload/reload forwarders, as an object
        //    file handed to the cdylib's linker only. An object on the link
        //    line is kept whole, so the constructor survives in
        //    libhotline.so, and test/tool executables never contain it (they
        //    would otherwise need every Asterisk symbol to link, and would
        //    try to register a module at startup).
        let shim_build = || {
            let mut cc = cc::Build::new();
            cc.file(&shim)
                .include(&inc)
                .include(&shim_dir)
                .warnings(true)
                .extra_warnings(false)
                // Asterisk's own headers trip these; they are not ours to fix.
                .flag_if_supported("-Wno-old-style-declaration")
                .flag_if_supported("-Wno-unused-parameter")
                .flag_if_supported("-Wno-missing-field-initializers")
                .flag_if_supported("-fno-strict-aliasing");
            for (k, v) in DEFINES {
                cc.define(k, Some(*v));
            }
            cc
        };
        shim_build().compile("hotline_asterisk_shim");

        let descriptor = shim_build()
            .define("HOTLINE_MODULE_DESCRIPTOR", Some("1"))
            .out_dir(out_dir.join("descriptor"))
            .compile_intermediates();
        for obj in descriptor {
            println!("cargo:rustc-link-arg-cdylib={}", obj.display());
        }
    }

    /// `rust-version` of Cargo.toml ("1.80" / "1.80.1") as a bindgen target.
    fn msrv_target() -> Option<bindgen::RustTarget> {
        let v = env::var("CARGO_PKG_RUST_VERSION").ok()?;
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        let (major, minor) = (parts.next()??, parts.next()??);
        let patch = parts.next().flatten().unwrap_or(0);
        if major != 1 {
            return None;
        }
        bindgen::RustTarget::stable(minor, patch).ok()
    }

    fn include_dir(crate_dir: &Path) -> PathBuf {
        let chosen = match env::var_os(ENV_INCLUDE) {
            // Relative paths are taken from the crate directory (where
            // cargo runs build scripts).
            Some(dir) if !dir.is_empty() => crate_dir.join(dir),
            _ => crate_dir.join("target").join("asterisk-include"),
        };
        if !chosen.join("asterisk.h").is_file() || !chosen.join("asterisk").is_dir() {
            fail(&format!(
                "\n\nfeature \"asterisk\": no Asterisk headers in {}\n\
                 Set {ENV_INCLUDE} to a directory holding asterisk.h and asterisk/, or run\n    \
                 docker/pbx headers target/asterisk-include\n\
                 (copies the headers of the Asterisk 22 test image).\n\n",
                chosen.display()
            ));
        }
        // Also rebuild when the headers are replaced by another image's.
        let stamp = chosen.join(".hotline-image");
        if stamp.is_file() {
            rerun_if_changed(&stamp);
        }
        chosen
    }
}

mod freeswitch {
    use super::*;

    const ENV_INCLUDE: &str = "HOTLINE_FREESWITCH_INCLUDE";
    const ENV_PREFIX: &str = "HOTLINE_FREESWITCH";
    const DEFAULT_PREFIX: &str = "/usr/local/freeswitch";

    /// Types Rust uses by name (the rest of switch.h stays out).
    const TYPES: &[&str] = &[
        "switch_loadable_module_function_table_t",
        "switch_loadable_module_interface_t",
        "switch_memory_pool_t",
        "switch_core_session_t",
        "switch_stream_handle_t",
        "switch_status_t",
        "switch_module_flag_t",
        "switch_module_flag_enum_t",
        "switch_call_cause_t",
        "hotline_fs_log_level",
        "hotline_fs_asr",
    ];

    const VARS: &[&str] = &["SWITCH_API_VERSION"];

    /// Opaque handles: Rust only passes pointers to them.
    const OPAQUE: &[&str] = &[
        "switch_loadable_module_interface",
        "switch_loadable_module_interface_t",
        "apr_pool_t",
        "switch_memory_pool_t",
        "switch_core_session",
        "switch_core_session_t",
        "switch_stream_handle",
        "switch_stream_handle_t",
    ];

    pub fn build() {
        let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
        let shim_dir = crate_dir.join("include");
        let header = shim_dir.join("hotline_freeswitch.h");
        let shim = shim_dir.join("hotline_freeswitch.c");
        println!("cargo:rerun-if-env-changed={ENV_INCLUDE}");
        println!("cargo:rerun-if-env-changed={ENV_PREFIX}");
        println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
        rerun_if_changed(&header);
        rerun_if_changed(&shim);
        let incs = include_dirs();
        for i in &incs {
            rerun_if_changed(&i.join("switch.h"));
        }

        // ---- bindings ------------------------------------------------------
        let mut builder = bindgen::Builder::default()
            .header(header.to_string_lossy())
            .clang_arg(format!("-I{}", shim_dir.display()))
            .layout_tests(false)
            .derive_default(false)
            .derive_debug(false)
            .generate_comments(false)
            .default_enum_style(bindgen::EnumVariation::NewType { is_bitfield: false, is_global: false })
            .prepend_enum_name(false)
            .allowlist_function("hotline_fs_.*")
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
        for i in &incs {
            builder = builder.clang_arg(format!("-I{}", i.display()));
        }
        if let Some(target) = msrv_target() {
            builder = builder.rust_target(target);
        }
        for t in TYPES {
            builder = builder.allowlist_type(t);
        }
        for v in VARS {
            builder = builder.allowlist_var(v);
        }
        for o in OPAQUE {
            builder = builder.opaque_type(o);
        }
        let bindings = builder.generate().unwrap_or_else(|e| {
            fail(&format!(
                "bindgen failed on {} with FreeSWITCH headers in {incs:?}: {e}\n\
                 (bindgen needs libclang: apt-get install libclang-dev)",
                header.display()
            ))
        });
        bindings.write_to_file(out_dir.join("freeswitch_bindings.rs")).expect("write freeswitch_bindings.rs");

        // ---- C shim --------------------------------------------------------
        // A static library: the linker takes the wrappers Rust calls. The
        // cdylib leaves FreeSWITCH's own symbols undefined; they resolve
        // against the freeswitch process that dlopen()s mod_hotline.so.
        let mut cc = cc::Build::new();
        cc.file(&shim)
            .include(&shim_dir)
            .warnings(true)
            .extra_warnings(false)
            .flag_if_supported("-Wno-unused-parameter")
            .flag_if_supported("-Wno-missing-field-initializers")
            .flag_if_supported("-fno-strict-aliasing");
        for i in &incs {
            cc.include(i);
        }
        cc.compile("hotline_freeswitch_shim");
    }

    /// `rust-version` of Cargo.toml as a bindgen target (same rule as the
    /// asterisk branch: generate code for the declared minimum Rust).
    fn msrv_target() -> Option<bindgen::RustTarget> {
        let v = env::var("CARGO_PKG_RUST_VERSION").ok()?;
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        let (major, minor) = (parts.next()??, parts.next()??);
        let patch = parts.next().flatten().unwrap_or(0);
        if major != 1 {
            return None;
        }
        bindgen::RustTarget::stable(minor, patch).ok()
    }

    /// The directories holding switch.h and what it includes.
    fn include_dirs() -> Vec<PathBuf> {
        let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
        let mut tried = Vec::new();
        // 1. explicit
        if let Some(dir) = env::var_os(ENV_INCLUDE).filter(|d| !d.is_empty()) {
            let d = crate_dir.join(dir);
            if d.join("switch.h").is_file() {
                return vec![d];
            }
            tried.push(format!("{ENV_INCLUDE}={}", d.display()));
        }
        // 2. pkg-config (freeswitch.pc of the installation)
        match std::process::Command::new("pkg-config").args(["--cflags-only-I", "freeswitch"]).output() {
            Ok(out) if out.status.success() => {
                let dirs: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|f| f.strip_prefix("-I"))
                    .map(PathBuf::from)
                    .collect();
                if dirs.iter().any(|d| d.join("switch.h").is_file()) {
                    return dirs;
                }
                tried.push(format!("pkg-config freeswitch: {dirs:?}"));
            }
            Ok(out) => tried.push(format!("pkg-config freeswitch: {}", String::from_utf8_lossy(&out.stderr).trim())),
            Err(e) => tried.push(format!("pkg-config: {e}")),
        }
        // 3. an installation prefix
        let prefix = env::var_os(ENV_PREFIX).filter(|p| !p.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_PREFIX));
        let d = prefix.join("include").join("freeswitch");
        if d.join("switch.h").is_file() {
            return vec![d];
        }
        tried.push(d.display().to_string());
        fail(&format!(
            "\n\nfeature \"freeswitch\": no FreeSWITCH headers (switch.h) found; tried:\n  {}\n\
             Install FreeSWITCH 1.10 with its headers, then either make `pkg-config --cflags freeswitch`\n\
             work (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig), or set {ENV_PREFIX}=<prefix> or\n\
             {ENV_INCLUDE}=<dir with switch.h>.\n\n",
            tried.join("\n  ")
        ))
    }
}
