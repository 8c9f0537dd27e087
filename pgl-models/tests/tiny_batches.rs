//! Batches of one and two samples: every local objective and every kind of BatchNorm (flat,
//! spatial, and 1×1 spatial in ResNet's `1c2f` heads) trains on them with finite losses and
//! finite weights, in local and global steps. A dataset whose size is not a multiple of the
//! batch size ends every epoch with such a batch.

use pgl_burn::inspect::{broken_tensors, param_values};
use pgl_core::{EventSink, RunConfig, TrainEvent};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, TrainingConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::testing::digits_trainer;

const OBJECTIVES: &[&str] = &["ce", "infopro", "infopro:class=supcon", "supcon"];

/// Three training samples in batches of two: every epoch is a batch of 2, then a batch of 1.
fn data() -> DatasetSplits {
    let mut d = load_dataset("digits", None).unwrap();
    d.train = d.train.truncated(3);
    d.test = d.test.truncated(3);
    d
}

/// Checks every step's losses as they are reported.
#[derive(Default)]
struct Losses {
    steps: usize,
    non_finite: Vec<String>,
}

impl EventSink for Losses {
    fn on_event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::StepFinished { loss, .. } => {
                self.steps += 1;
                if !loss.is_finite() {
                    self.non_finite.push(format!("{event:?}"));
                }
            }
            TrainEvent::EpochFinished(metrics)
                if !metrics
                    .module_train_loss
                    .iter()
                    .flatten()
                    .all(|l| l.is_finite()) =>
            {
                self.non_finite.push(format!("{metrics:?}"));
            }
            _ => {}
        }
    }
}

#[test]
fn every_objective_and_batch_norm_trains_on_batches_of_one_and_two() {
    let data = data();
    for model in ["mlp", "cnn", "resnet32"] {
        for objective in OBJECTIVES {
            let config = RunConfig {
                objective: ObjectiveConfig {
                    local_objective: objective.to_string(),
                },
                guidance: GuidanceConfig {
                    // Iterations 0, 1 local (batches of 2 and 1), 2 global (2), 3, 4 local (1, 2),
                    // 5 global (1): both step kinds on both batch sizes.
                    schedule: "periodic:every=3".to_string(),
                    ..Default::default()
                },
                training: TrainingConfig {
                    batch_size: 2,
                    epochs: 3,
                    ..Default::default()
                },
                optimizer: OptimizerConfig {
                    lr_schedule: "constant".to_string(),
                    lr: 0.01,
                    ..Default::default()
                },
                ..RunConfig::default()
            };
            let what = format!("{model} with {objective}");
            let mut trainer = digits_trainer(model, 4, &config, 7);
            let mut losses = Losses::default();
            let history = trainer
                .fit(&data, &mut losses)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(losses.steps, 6, "{what}");
            assert!(
                losses.non_finite.is_empty(),
                "{what}: {:?}",
                losses.non_finite
            );
            let last = history.last().unwrap();
            assert!(last.train_loss.is_finite(), "{what}: {last:?}");
            assert!(last.test_loss.is_finite(), "{what}: {last:?}");
            let broken = broken_tensors(trainer.model());
            assert!(broken.is_empty(), "{what}: {broken:?}");
            assert!(
                param_values(trainer.objective_heads())
                    .iter()
                    .all(|p| p.values.iter().all(|v| v.is_finite())),
                "{what}: extra heads"
            );
        }
    }
    // The trainer's own eval on a single sample, too.
    let mut one = data;
    one.test = one.test.truncated(1);
    let trainer = digits_trainer("cnn", 4, &RunConfig::default(), 7);
    assert!(trainer.evaluate(&one.test).loss.is_finite());
}
