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
        if self.model.modules == 0 {
            return invalid("modules", "0".into(), "an integer >= 1");
        }
        if self.training.epochs == 0 {
            return invalid("epochs", "0".into(), "an integer >= 1");
        }
        if self.training.batch_size == 0 {
            return invalid("batch-size", "0".into(), "an integer >= 1");
        }
        Ok(())
    }

    /// Learning rate, momentum (and Nesterov's need of it), weight decay.
    fn check_optimizer(&self) -> Result<(), CoreError> {
        if !(self.optimizer.lr.is_finite() && self.optimizer.lr > 0.0) {
            return invalid("lr", self.optimizer.lr.to_string(), "a finite number > 0");
        }
        if !(self.optimizer.momentum.is_finite() && (0.0..1.0).contains(&self.optimizer.momentum)) {
            return invalid(
                "momentum",
                self.optimizer.momentum.to_string(),
                "a number in [0, 1)",
            );
        }
        if self.optimizer.nesterov && self.optimizer.momentum == 0.0 {
            return invalid(
                "nesterov",
                "true".into(),
                "momentum > 0 (Nesterov needs momentum)",
            );
        }
        if !(self.optimizer.weight_decay.is_finite() && self.optimizer.weight_decay >= 0.0) {
            return invalid(
                "weight-decay",
                self.optimizer.weight_decay.to_string(),
                "a finite number >= 0",
            );
        }
        Ok(())
    }

    /// What global steps do: aux weight, LR scale, replay, depth, micro-batches.
    fn check_global_steps(&self) -> Result<(), CoreError> {
        if !(self.guidance.aux_weight.is_finite() && self.guidance.aux_weight >= 0.0) {
            return invalid(
                "aux-weight",
                self.guidance.aux_weight.to_string(),
                "a finite number >= 0",
            );
        }
        if !(self.guidance.global_lr_scale.is_finite() && self.guidance.global_lr_scale > 0.0) {
            return invalid(
                "global-lr-scale",
                self.guidance.global_lr_scale.to_string(),
                "a finite number > 0",
            );
        }
        if !(self.guidance.global_replay.is_finite() && self.guidance.global_replay >= 0.0) {
            return invalid(
                "global-replay",
                self.guidance.global_replay.to_string(),
                "a finite number >= 0 (0: no replay)",
            );
        }
        if !(self.guidance.synthetic_gradient.is_finite()
            && self.guidance.synthetic_gradient >= 0.0)
        {
            return invalid(
                "synthetic-gradient",
                self.guidance.synthetic_gradient.to_string(),
                "a finite number >= 0 (0: no synthetic gradients)",
            );
        }
        if self.guidance.global_depth == Some(0) {
            return invalid("global-depth", "0".into(), "an integer >= 1 (modules)");
        }
        if let Some(m) = self.guidance.global_microbatch
            && (m == 0 || m > self.training.batch_size)
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
        if self.runtime.pipeline == Some(0) {
            return invalid("pipeline", "0".into(), "an integer >= 1 (worker threads)");
        }
        if self.runtime.checkpoint_every == 0 {
            return invalid("checkpoint-every", "0".into(), "an integer >= 1");
        }
        if self.runtime.keep_checkpoints == 0 {
            return invalid("keep-checkpoints", "0".into(), "an integer >= 1");
        }
        if self.data.train_limit == Some(0) {
            return invalid("train-limit", "0".into(), "an integer >= 1");
        }
        if self.data.test_limit == Some(0) {
            return invalid("test-limit", "0".into(), "an integer >= 1");
        }
        Ok(())
    }
}
