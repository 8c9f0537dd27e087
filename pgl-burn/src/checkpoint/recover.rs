//! Resuming from the newest checkpoint that loads: a damaged newest checkpoint (a file
//! missing, truncated or holding NaN) must not strand a run whose older checkpoint is intact.

use std::fs;
use std::path::{Path, PathBuf};

use super::{CheckpointStore, Manifest, error, read_manifest, restore};
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::trainer::Trainer;

/// Prefix of the name a damaged checkpoint folder is moved to: not `epoch-…`, so the store no
/// longer lists it, and not `.partial-…`, so pruning leaves it for the user to look at.
pub const DAMAGED_PREFIX: &str = "damaged-";

/// A checkpoint [`restore_newest`] passed over.
#[derive(Debug)]
pub struct Skipped {
    /// The checkpoint folder it was.
    pub path: PathBuf,
    /// Why it could not be restored.
    pub error: TrainError,
    /// Where it was moved (`checkpoints/damaged-epoch-NNNN`) once an older one restored.
    pub moved_to: Option<PathBuf>,
}

/// What [`restore_newest`] restored.
#[derive(Debug)]
pub struct Restored {
    /// The checkpoint folder the trainer now continues from.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The newer checkpoints that could not be restored, newest first.
    pub skipped: Vec<Skipped>,
}

/// Restores `trainer` from the newest checkpoint of `store` that restores completely
/// ([`restore`]: manifest, weights, optimizer states, extra heads, counters), passing over
/// damaged ones; `accept` sees each manifest before anything is loaded, and its error ends the
/// search (a checkpoint of another configuration is not damage: an older one would be as
/// foreign). Damaged checkpoints newer than the restored one are moved aside
/// ([`DAMAGED_PREFIX`]), so that the continued run writes those epochs afresh instead of
/// finding them "already written". An error when no checkpoint restores, listing why each one
/// failed.
pub fn restore_newest<M, E>(
    store: &CheckpointStore,
    trainer: &mut Trainer<M>,
    mut accept: impl FnMut(&Path, &Manifest) -> Result<(), E>,
) -> Result<Restored, E>
where
    M: DecoupledModel,
    E: From<TrainError>,
{
    let mut skipped = Vec::new();
    let mut candidates = store.list()?;
    while let Some((_, path)) = candidates.pop() {
        let manifest = match read_manifest(&path) {
            Ok(manifest) => manifest,
            Err(error) => {
                skipped.push(Skipped {
                    path,
                    error,
                    moved_to: None,
                });
                continue;
            }
        };
        accept(&path, &manifest)?;
        if let Err(error) = restore(&path, trainer) {
            skipped.push(Skipped {
                path,
                error,
                moved_to: None,
            });
            continue;
        }
        for damaged in &mut skipped {
            damaged.moved_to = Some(set_aside(&damaged.path)?);
        }
        return Ok(Restored {
            path,
            manifest,
            skipped,
        });
    }
    let reason = if skipped.is_empty() {
        "holds no complete checkpoint to resume from".to_string()
    } else {
        let reasons: Vec<String> = skipped.iter().map(|s| s.error.to_string()).collect();
        format!(
            "holds no complete checkpoint to resume from: every one is damaged ({})",
            reasons.join("; ")
        )
    };
    Err(error(store.root(), reason).into())
}

/// Moves the checkpoint folder `path` aside, to `damaged-<name>` beside it (`-2`, `-3`, … when
/// taken); returns the new path.
fn set_aside(path: &Path) -> Result<PathBuf, TrainError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let target = (1..)
        .map(|n| {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!("-{n}")
            };
            path.with_file_name(format!("{DAMAGED_PREFIX}{name}{suffix}"))
        })
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .expect("some suffix is free");
    fs::rename(path, &target).map_err(|e| {
        error(
            path,
            format!("cannot move the damaged checkpoint aside: {e}"),
        )
    })?;
    Ok(target)
}
