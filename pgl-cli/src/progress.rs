//! The terminal view of a run: a progress bar on a terminal (plain lines otherwise) and the
//! epoch table, fed by the trainer's events.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use pgl_core::{EventSink, StepKind, TrainEvent};

/// Draws progress on stderr and the epoch table on stdout.
pub struct ConsoleSink {
    interactive: bool,
    modules: usize,
    epochs: u64,
    per_epoch: u64,
    epoch_started: Instant,
    last_draw: Instant,
    header_printed: bool,
    local: u64,
    global: u64,
}

impl ConsoleSink {
    /// A sink for a model of `modules` modules; draws a bar only when stderr is a terminal.
    pub fn new(modules: usize) -> Self {
        Self {
            interactive: std::io::stderr().is_terminal(),
            modules,
            epochs: 0,
            per_epoch: 0,
            epoch_started: Instant::now(),
            last_draw: Instant::now(),
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
        if !self.interactive {
            return;
        }
        if done < self.per_epoch && self.last_draw.elapsed().as_millis() < 100 {
            return;
        }
        self.last_draw = Instant::now();
        let width = 30usize;
        let filled = (done as usize * width) / self.per_epoch.max(1) as usize;
        let elapsed = self.epoch_started.elapsed().as_secs_f64();
        let eta = elapsed / done.max(1) as f64 * (self.per_epoch - done.min(self.per_epoch)) as f64;
        eprint!(
            "\r\x1b[2Kepoch {epoch}/{} [{}{}] {done}/{} {kind:<6} loss {loss:.4} local {} global {} eta {eta:.0}s",
            self.epochs,
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.per_epoch,
            self.local,
            self.global,
        );
        let _ = std::io::stderr().flush();
    }
}

impl EventSink for ConsoleSink {
    fn on_event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::RunStarted {
                epochs,
                iterations_per_epoch,
            } => {
                self.epochs = *epochs;
                self.per_epoch = *iterations_per_epoch;
                self.epoch_started = Instant::now();
            }
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
                if self.interactive {
                    eprint!("\r\x1b[2Kepoch {epoch}/{}: evaluating...", self.epochs);
                    let _ = std::io::stderr().flush();
                }
            }
            TrainEvent::EpochFinished(m) => {
                if self.interactive {
                    eprint!("\r\x1b[2K");
                }
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
