//! The terminal view of training: a status line with a progress bar on a terminal (plain lines
//! otherwise), fed by the trainer's events. [`ConsoleSink`] shows one run and its epoch table
//! (`pgl train`); [`SweepProgress`] shows a sequence of runs (`pgl compare`). Both draw through
//! one [`StatusLine`].

use std::io::{IsTerminal, Write};
use std::time::Instant;

use pgl_core::{EventSink, StepKind, TrainEvent};

/// `[###---]`: a bar of `width` characters filled to `fraction` (clamped to 0..=1).
pub fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f64) as usize).min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// Seconds left when `fraction` of the work took `elapsed` seconds.
pub fn eta_seconds(elapsed: f64, fraction: f64) -> f64 {
    if fraction > 0.0 {
        elapsed / fraction * (1.0 - fraction).max(0.0)
    } else {
        0.0
    }
}

/// The one redrawn line on stderr, and the length of the run it follows. Redraws are
/// throttled; nothing is drawn when stderr is not a terminal.
pub struct StatusLine {
    interactive: bool,
    throttle_ms: u128,
    last_draw: Instant,
    /// Epochs of the run (from [`TrainEvent::RunStarted`]).
    pub epochs: u64,
    /// Iterations per epoch (from [`TrainEvent::RunStarted`]).
    pub per_epoch: u64,
}

impl StatusLine {
    /// A line redrawn at most every `throttle_ms` milliseconds, on a terminal only.
    pub fn new(throttle_ms: u128) -> Self {
        Self {
            interactive: std::io::stderr().is_terminal(),
            throttle_ms,
            last_draw: Instant::now(),
            epochs: 0,
            per_epoch: 0,
        }
    }

    /// Whether stderr is a terminal (a bar is drawn) rather than a log (plain lines).
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// Records the run's length when `event` starts a run.
    pub fn observe(&mut self, event: &TrainEvent) {
        if let TrainEvent::RunStarted {
            epochs,
            iterations_per_epoch,
        } = event
        {
            self.epochs = *epochs;
            self.per_epoch = *iterations_per_epoch;
        }
    }

    /// Whether a redraw is due now (on a terminal, and the throttle has passed or `force`);
    /// when it is, the throttle restarts.
    pub fn due(&mut self, force: bool) -> bool {
        if !self.interactive || (!force && self.last_draw.elapsed().as_millis() < self.throttle_ms)
        {
            return false;
        }
        self.last_draw = Instant::now();
        true
    }

    /// Replaces the line with `text` (on a terminal only).
    pub fn draw(&self, text: &str) {
        if self.interactive {
            eprint!("\r\x1b[2K{text}");
            let _ = std::io::stderr().flush();
        }
    }

    /// Clears the line so that a plain line can be printed (on a terminal only).
    pub fn clear(&self) {
        if self.interactive {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Draws progress on stderr and the epoch table on stdout.
pub struct ConsoleSink {
    line: StatusLine,
    modules: usize,
    epoch_started: Instant,
    header_printed: bool,
    local: u64,
    global: u64,
}

impl ConsoleSink {
    /// A sink for a model of `modules` modules; draws a bar only when stderr is a terminal.
    pub fn new(modules: usize) -> Self {
        Self {
            line: StatusLine::new(100),
            modules,
            epoch_started: Instant::now(),
            header_printed: false,
            local: 0,
            global: 0,
        }
    }

    fn header(&self) -> String {
        let modules: Vec<String> = (1..=self.modules).map(|k| format!("m{k:<5}")).collect();
        format!(
            "{:>5} {:>6} {:>6} {:>8} {:>8} | per-module test acc: {} | {:>8} {:>7}",
            "epoch",
            "local",
            "global",
            "loss",
            "test-loss",
            modules.join(" "),
            "test-acc",
            "seconds"
        )
    }

    fn draw_bar(&mut self, epoch: u64, done: u64, kind: StepKind, loss: f32) {
        let per_epoch = self.line.per_epoch;
        if !self.line.due(done >= per_epoch) {
            return;
        }
        let fraction = done as f64 / per_epoch.max(1) as f64;
        let eta = eta_seconds(self.epoch_started.elapsed().as_secs_f64(), fraction);
        self.line.draw(&format!(
            "epoch {epoch}/{} {} {done}/{per_epoch} {kind:<6} loss {loss:.4} local {} global {} eta {eta:.0}s",
            self.line.epochs,
            bar(fraction, 30),
            self.local,
            self.global,
        ));
    }
}

impl EventSink for ConsoleSink {
    fn on_event(&mut self, event: &TrainEvent) {
        self.line.observe(event);
        match event {
            TrainEvent::RunStarted { .. } => self.epoch_started = Instant::now(),
            TrainEvent::StepFinished {
                epoch,
                iteration_in_epoch,
                kind,
                loss,
            } => {
                if *iteration_in_epoch == 0 {
                    self.epoch_started = Instant::now();
                    self.local = 0;
                    self.global = 0;
                }
                match kind {
                    StepKind::Local => self.local += 1,
                    StepKind::Global => self.global += 1,
                }
                self.draw_bar(*epoch, iteration_in_epoch + 1, *kind, *loss);
            }
            TrainEvent::EvaluationStarted { epoch } => {
                self.line.draw(&format!(
                    "epoch {epoch}/{}: evaluating...",
                    self.line.epochs
                ));
            }
            TrainEvent::EpochFinished(m) => {
                self.line.clear();
                if !self.header_printed {
                    println!("{}", self.header());
                    self.header_printed = true;
                }
                let modules: Vec<String> = m
                    .module_accuracy
                    .iter()
                    .map(|a| format!("{a:<6.4}"))
                    .collect();
                println!(
                    "{:>5} {:>6} {:>6} {:>8.4} {:>8.4} | per-module test acc: {} | {:>8.4} {:>7.1}",
                    m.epoch,
                    m.steps_local,
                    m.steps_global,
                    m.train_loss,
                    m.test_loss,
                    modules.join(" "),
                    m.test_accuracy,
                    m.train_seconds + m.eval_seconds,
                );
            }
        }
    }
}

/// Progress across a sequence of runs (stderr): one bar over all of them on a terminal, a
/// line per run start and per epoch otherwise.
pub struct SweepProgress {
    line: StatusLine,
    run: usize,
    runs: usize,
    label: String,
    started: Instant,
}

impl SweepProgress {
    /// Progress of run `run` (0-based) of `runs`, named `label`; `started` is when the first
    /// run began (the time left is estimated over the whole sequence).
    pub fn new(run: usize, runs: usize, label: String, started: Instant) -> Self {
        Self {
            line: StatusLine::new(150),
            run,
            runs,
            label,
            started,
        }
    }
}

impl EventSink for SweepProgress {
    fn on_event(&mut self, event: &TrainEvent) {
        self.line.observe(event);
        let (run, runs, epochs) = (self.run + 1, self.runs, self.line.epochs);
        match event {
            TrainEvent::RunStarted { .. } => {
                if !self.line.interactive() {
                    eprintln!("run {run}/{runs}: {}", self.label);
                }
            }
            TrainEvent::StepFinished {
                epoch,
                iteration_in_epoch,
                ..
            } => {
                if !self.line.due(false) {
                    return;
                }
                let done_in_run = (epoch - 1) * self.line.per_epoch + iteration_in_epoch + 1;
                let run_total = (epochs * self.line.per_epoch).max(1);
                let overall = (self.run as f64 + done_in_run as f64 / run_total as f64)
                    / self.runs.max(1) as f64;
                let eta = eta_seconds(self.started.elapsed().as_secs_f64(), overall);
                self.line.draw(&format!(
                    "{} {:>5.1}% run {run}/{runs} ({}) epoch {epoch}/{epochs} eta {eta:.0}s",
                    bar(overall, 30),
                    overall * 100.0,
                    self.label,
                ));
            }
            TrainEvent::EvaluationStarted { .. } => {}
            TrainEvent::EpochFinished(m) => {
                self.line.clear();
                eprintln!(
                    "run {run}/{runs} ({}): epoch {}/{epochs} test accuracy {:.4}",
                    self.label, m.epoch, m.test_accuracy
                );
            }
        }
    }
}
