//! Ctrl-C (SIGINT) and SIGTERM (what `kill`, systemd, Slurm and Kubernetes send): the first
//! one asks the trainer to stop at the next batch boundary (it drains the pipeline and `pgl`
//! writes a checkpoint); a second one exits at once.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal that asked to stop (0: none yet).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Installs the SIGINT and SIGTERM handlers (once; later calls do nothing).
pub fn install() {
    #[cfg(unix)]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: the handler only performs async-signal-safe operations (atomic loads
            // and stores, `write` and `_exit`).
            unsafe {
                libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
                libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
            }
        });
    }
}

/// What stopped the run, for messages: `Ctrl-C` or `SIGTERM`.
pub fn stopped_by() -> &'static str {
    #[cfg(unix)]
    {
        if SIGNAL.load(Ordering::SeqCst) == libc::SIGTERM {
            return "SIGTERM";
        }
    }
    "Ctrl-C"
}

/// The exit status of a run stopped by a signal: 128 + the signal's number (130 for Ctrl-C,
/// 143 for SIGTERM), as shells report a process the signal killed.
pub fn exit_code() -> u8 {
    match SIGNAL.load(Ordering::SeqCst) {
        signal @ 1..=127 => 128 + signal as u8,
        _ => 130,
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    if pgl_burn::interrupt::requested() {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(128 + signal) };
    }
    SIGNAL.store(signal, Ordering::SeqCst);
    pgl_burn::interrupt::request();
    let message: &[u8] = if signal == libc::SIGTERM {
        b"\npgl: SIGTERM: stopping after the current batch to write a checkpoint (send it again to quit at once)\n"
    } else {
        b"\npgl: stopping after the current batch (Ctrl-C again to quit at once)\n"
    };
    // SAFETY: `write` is async-signal-safe; the buffer outlives the call.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
    }
}
