//! The optional files of a checkpoint: the local objective's extra heads (`objective.bpk`)
//! and the gradients a run with `--global-replay` replays (`replay.bpk`).

use std::path::Path;

use super::{OBJECTIVE_FILE, REPLAY_FILE, check_intact, error, load_checked, record_error};
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::objective::ObjectiveHeads;
use crate::replay::ReplayBuffer;

/// Loads the local objective's extra heads saved in checkpoint folder `dir` into `heads` (the
/// same objective's heads for the same model); a file written before loss terms were plugins
/// loads too ([`ObjectiveHeads::load_file`]).
pub(super) fn load_objective_heads(
    dir: &Path,
    heads: ObjectiveHeads,
) -> Result<ObjectiveHeads, TrainError> {
    let path = dir.join(OBJECTIVE_FILE);
    if !path.is_file() {
        return Err(error(
            &path,
            "missing: the run's local objective has extra heads, this checkpoint saved none",
        ));
    }
    let heads = heads.load_file(&path).map_err(|e| record_error(&path, e))?;
    check_intact(&path, heads)
}

/// The replayed gradients saved in checkpoint folder `dir`, loaded into an evaluation copy of
/// `model` (the restored model: the same parameter ids); `None` when the checkpoint has none
/// (replay off, or no global step before it).
pub(super) fn load_replay<M: DecoupledModel>(
    dir: &Path,
    model: &M,
) -> Result<Option<ReplayBuffer<M>>, TrainError> {
    let path = dir.join(REPLAY_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let values = load_checked(&path, model.valid())?;
    Ok(Some(ReplayBuffer::from_values(values)))
}
