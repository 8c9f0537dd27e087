//! Exact resume: "train 2 epochs" and "train 1 epoch, checkpoint, restore, train to 2" end
//! with bit-identical weights and the same metrics (CPU backend).

use pgl_burn::Trainer;
use pgl_burn::checkpoint::{CheckpointStore, init_from, restore};
use pgl_burn::inspect::param_values;
use pgl_core::{EpochMetrics, NullSink, RunConfig};
use pgl_core::{GuidanceConfig, OptimizerConfig, TrainingConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::DecoupledNet;
use pgl_models::testing::digits_trainer;

const INPUT: [usize; 4] = [1, 8, 8, 10];

fn data() -> DatasetSplits {
    let mut d = load_dataset("digits", None).unwrap();
    d.train = d.train.truncated(300);
    d.test = d.test.truncated(100);
    d
}

/// A digits configuration; AdamW runs also exercise issue 12's knobs: separate optimizers
/// for global steps, decoupled weight decay sparing biases and norms, a global LR scale.
fn config(epochs: u64, optimizer: pgl_core::OptimizerKind, schedule: &str) -> RunConfig {
    let knobs = optimizer == pgl_core::OptimizerKind::AdamW;
    RunConfig {
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            global_optimizer: if knobs {
                pgl_core::GlobalOptimizer::Separate
            } else {
                pgl_core::GlobalOptimizer::Shared
            },
            weight_decay: if knobs { 0.01 } else { 0.0 },
            // Resuming to more epochs than the first run planned: the schedule must not depend on
            // the run's length (cosine does).
            lr_schedule: "constant".to_string(),
            no_decay_norm_bias: knobs,
            kind: optimizer,
            lr: if optimizer == pgl_core::OptimizerKind::Sgd {
                0.05
            } else {
                1e-3
            },
            ..Default::default()
        },
        guidance: GuidanceConfig {
            global_lr_scale: if knobs { 2.0 } else { 1.0 },
            schedule: schedule.to_string(),
            ..Default::default()
        },
        ..RunConfig::default()
    }
}

fn trainer(config: &RunConfig, seed: u64) -> Trainer<DecoupledNet> {
    digits_trainer("cnn", 4, config, seed)
}

/// Metrics without the wall-clock fields.
fn comparable(history: &[EpochMetrics]) -> Vec<String> {
    history
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.train_seconds = 0.0;
            m.eval_seconds = 0.0;
            m.data_wait_seconds = 0.0;
            m.images_per_second = 0.0;
            m.peak_memory_bytes_local = None;
            m.peak_memory_bytes_global = None;
            serde_json::to_string(&m).unwrap()
        })
        .collect()
}

fn weights(t: &Trainer<DecoupledNet>) -> Vec<(String, Vec<u32>)> {
    param_values(t.model())
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn resuming_from_a_checkpoint_reproduces_an_uninterrupted_run_bit_for_bit() {
    for (optimizer, schedule) in [
        (
            pgl_core::OptimizerKind::Adam,
            "any(periodic:every=4,plateau:patience=3)",
        ),
        (pgl_core::OptimizerKind::Sgd, "periodic:every=3"),
        (pgl_core::OptimizerKind::AdamW, "periodic:every=3"),
        // Reads the latest step's module losses, which the checkpoint must carry.
        (
            pgl_core::OptimizerKind::Adam,
            "lagging:margin=0,min_gap=1,max_gap=6,smooth=0.5",
        ),
    ] {
        let data = data();
        let full_config = config(3, optimizer, schedule);
        let mut uninterrupted = trainer(&full_config, 7);
        let full = uninterrupted.fit(&data, &mut NullSink).unwrap();

        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path(), 2);
        let mut first = trainer(&config(1, optimizer, schedule), 7);
        first.fit(&data, &mut NullSink).unwrap();
        let saved = store.save(&first, &full_config, INPUT).unwrap();
        drop(first);

        // A fresh trainer with other initial weights: everything must come from the checkpoint.
        let mut resumed = trainer(&full_config, 99);
        let manifest = restore(&saved, &mut resumed).unwrap();
        assert_eq!(manifest.progress.epochs_done, 1);
        let modules = &manifest.progress.module_losses;
        assert_eq!(
            modules.len(),
            4,
            "{schedule}: the latest step's module losses"
        );
        assert_eq!(
            modules.last().copied().flatten(),
            manifest.progress.recent_losses.last().copied(),
            "{schedule}: the last module's loss is the classifier's"
        );
        let history = resumed.fit(&data, &mut NullSink).unwrap();

        assert_eq!(history.len(), 3);
        assert_eq!(
            comparable(&history),
            comparable(&full),
            "{schedule}: metrics differ after resume"
        );
        assert!(
            weights(&resumed) == weights(&uninterrupted),
            "{schedule}: weights differ after resume"
        );
    }
}

#[test]
fn the_store_keeps_the_newest_checkpoints_and_ignores_partial_writes() {
    let data = data();
    let cfg = config(4, pgl_core::OptimizerKind::Adam, "local-only");
    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    std::fs::create_dir_all(store.root().join(".partial-epoch-0009")).unwrap();
    let mut t = trainer(&cfg, 1);
    t.fit_with(&data, &mut NullSink, &mut |t| {
        store.save(t, &cfg, INPUT).map(|_| ())
    })
    .unwrap();
    let kept: Vec<u64> = store.list().unwrap().into_iter().map(|(e, _)| e).collect();
    assert_eq!(kept, vec![3, 4]);
    assert!(
        !store.root().join(".partial-epoch-0009").exists(),
        "partial writes are cleaned up"
    );
    assert_eq!(
        store.latest().unwrap().unwrap().file_name().unwrap(),
        "epoch-0004"
    );
}

#[test]
fn a_damaged_checkpoint_is_an_error_naming_the_file() {
    let data = data();
    let cfg = config(1, pgl_core::OptimizerKind::Adam, "local-only");
    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    let mut t = trainer(&cfg, 1);
    t.fit(&data, &mut NullSink).unwrap();
    let dir = store.save(&t, &cfg, INPUT).unwrap();

    let model = dir.join("model.bpk");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    let e = restore(&dir, &mut trainer(&cfg, 1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model.bpk") && e.contains("damaged or truncated"),
        "{e}"
    );
    std::fs::write(&model, &bytes).unwrap();

    std::fs::remove_file(dir.join("optimizer-2.bpk")).unwrap();
    let e = restore(&dir, &mut trainer(&cfg, 1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("optimizer-2.bpk") && e.contains("missing"),
        "{e}"
    );

    std::fs::write(dir.join("manifest.json"), "{\"format\": 99}").unwrap();
    let e = restore(&dir, &mut trainer(&cfg, 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("manifest.json"), "{e}");

    let other = config(1, pgl_core::OptimizerKind::Adam, "end-to-end");
    let mut t2 = trainer(&cfg, 1);
    t2.fit(&data, &mut NullSink).unwrap();
    let dir2 = CheckpointStore::new(&tmp.path().join("b"), 1)
        .save(&t2, &cfg, INPUT)
        .unwrap();
    let e = restore(&dir2, &mut trainer(&other, 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("end-to-end") && e.contains("local-only"), "{e}");
}

#[test]
fn keeping_the_optimizer_state_of_another_optimizer_is_an_error_naming_both() {
    let data = data();
    let adam = config(1, pgl_core::OptimizerKind::Adam, "local-only");
    let tmp = tempfile::tempdir().unwrap();
    let mut t = trainer(&adam, 1);
    t.fit(&data, &mut NullSink).unwrap();
    let dir = CheckpointStore::new(tmp.path(), 1)
        .save(&t, &adam, INPUT)
        .unwrap();
    let sgd = config(1, pgl_core::OptimizerKind::Sgd, "local-only");
    let e = init_from(&dir, &mut trainer(&sgd, 1), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("keep_optimizer") && e.contains("adam") && e.contains("sgd"),
        "{e}"
    );
    // Fresh optimizer states may start from another optimizer's checkpoint; the same
    // optimizer's states carry over.
    init_from(&dir, &mut trainer(&sgd, 1), false).unwrap();
    init_from(&dir, &mut trainer(&adam, 1), true).unwrap();
}

/// The trainer hands the schedule every module's loss of the latest step: `lagging` with a
/// margin no gap can cross never guides (but for its `max_gap` rule), with one every gap
/// crosses it guides at every step after the first (which has no losses to read yet).
#[test]
fn the_schedule_reads_the_latest_step_s_module_losses() {
    let data = data();
    let global_steps = |schedule: &str| {
        let config = config(1, pgl_core::OptimizerKind::Adam, schedule);
        let mut t = trainer(&config, 7);
        let history = t.fit(&data, &mut NullSink).unwrap();
        (history[0].steps_global, history[0].steps_local)
    };
    let steps = 300u64.div_ceil(32);
    assert_eq!(
        global_steps("lagging:margin=1000,min_gap=0,max_gap=1000"),
        (0, steps)
    );
    assert_eq!(
        global_steps("lagging:margin=-1000,min_gap=0,max_gap=1000"),
        (steps - 1, 1)
    );
}
