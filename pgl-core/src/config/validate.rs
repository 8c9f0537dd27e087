//! [`RunConfig::validate`]: the numeric checks of a configuration, in groups (sizes, optimizer,
//! global steps, run bookkeeping) that run in that order, so the first bad field is the one
//! reported.

use super::RunConfig;
use crate::error::CoreError;

/// The error for `field` (its flag's name) holding `value` where `expected` was wanted.
fn invalid(field: &str, value: String, expected: &str) -> Result<(), CoreError> {
    Err(CoreError::InvalidConfig {
        field: field.to_string(),
        value,
        expected: expected.to_string(),
    })
}

impl RunConfig {
    /// Checks every numeric field (ranges, finiteness, `0` where at least 1 is needed).
    ///
    /// Names (dataset, model, split, aux head, label, augmentation, backend and whether it has
    /// device indices) are checked by the crate that owns them, when the CLI parses them into
    /// typed values: pgl-core knows no such list.
    pub fn validate(&self) -> Result<(), CoreError> {
        self.check_sizes()?;
        self.check_optimizer()?;
        self.check_global_steps()?;
        self.check_bookkeeping()
    }

    /// K, epochs and the batch size.
    fn check_sizes(&self) -> Result<(), CoreError> {
        if self.modules == 0 {
            return invalid("modules", "0".into(), "an integer >= 1");
        }
        if self.epochs == 0 {
            return invalid("epochs", "0".into(), "an integer >= 1");
        }
        if self.batch_size == 0 {
            return invalid("batch-size", "0".into(), "an integer >= 1");
        }
        Ok(())
    }

    /// Learning rate, momentum (and Nesterov's need of it), weight decay.
    fn check_optimizer(&self) -> Result<(), CoreError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return invalid("lr", self.lr.to_string(), "a finite number > 0");
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return invalid("momentum", self.momentum.to_string(), "a number in [0, 1)");
        }
        if self.nesterov && self.momentum == 0.0 {
            return invalid(
                "nesterov",
                "true".into(),
                "momentum > 0 (Nesterov needs momentum)",
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid(
                "weight-decay",
                self.weight_decay.to_string(),
                "a finite number >= 0",
            );
        }
        Ok(())
    }

    /// What global steps do: aux weight, LR scale, replay, depth, micro-batches.
    fn check_global_steps(&self) -> Result<(), CoreError> {
        if !(self.aux_weight.is_finite() && self.aux_weight >= 0.0) {
            return invalid(
                "aux-weight",
                self.aux_weight.to_string(),
                "a finite number >= 0",
            );
        }
        if !(self.global_lr_scale.is_finite() && self.global_lr_scale > 0.0) {
            return invalid(
                "global-lr-scale",
                self.global_lr_scale.to_string(),
                "a finite number > 0",
            );
        }
        if !(self.global_replay.is_finite() && self.global_replay >= 0.0) {
            return invalid(
                "global-replay",
                self.global_replay.to_string(),
                "a finite number >= 0 (0: no replay)",
            );
        }
        if !(self.synthetic_gradient.is_finite() && self.synthetic_gradient >= 0.0) {
            return invalid(
                "synthetic-gradient",
                self.synthetic_gradient.to_string(),
                "a finite number >= 0 (0: no synthetic gradients)",
            );
        }
        if self.global_depth == Some(0) {
            return invalid("global-depth", "0".into(), "an integer >= 1 (modules)");
        }
        if let Some(m) = self.global_microbatch
            && (m == 0 || m > self.batch_size)
        {
            return invalid(
                "global-microbatch",
                m.to_string(),
                "an integer in [1, batch-size] (micro-batches per global step)",
            );
        }
        Ok(())
    }

    /// Pipeline workers, checkpoints and the sample limits.
    fn check_bookkeeping(&self) -> Result<(), CoreError> {
        if self.pipeline == Some(0) {
            return invalid("pipeline", "0".into(), "an integer >= 1 (worker threads)");
        }
        if self.checkpoint_every == 0 {
            return invalid("checkpoint-every", "0".into(), "an integer >= 1");
        }
        if self.keep_checkpoints == 0 {
            return invalid("keep-checkpoints", "0".into(), "an integer >= 1");
        }
        if self.train_limit == Some(0) {
            return invalid("train-limit", "0".into(), "an integer >= 1");
        }
        if self.test_limit == Some(0) {
            return invalid("test-limit", "0".into(), "an integer >= 1");
        }
        Ok(())
    }
}
