//! Ctrl-C: the first one asks the trainer to stop at the next batch boundary (it drains the
//! pipeline and `pgl` writes a checkpoint); a second one exits at once.

/// Installs the SIGINT handler (once; later calls do nothing).
pub fn install() {
    #[cfg(unix)]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: the handler only performs async-signal-safe operations (an atomic load
            // and store, `write` and `_exit`).
            unsafe {
                libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
            }
        });
    }
}

#[cfg(unix)]
extern "C" fn on_sigint(_signal: libc::c_int) {
    if pgl_burn::interrupt::requested() {
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
    pgl_burn::interrupt::request();
    let message = b"\npgl: stopping after the current batch (Ctrl-C again to quit at once)\n";
    // SAFETY: `write` is async-signal-safe; the buffer outlives the call.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
    }
}
