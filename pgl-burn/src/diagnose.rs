//! Why a loss became non-finite: the trainer looks at the weights the loss depends on before
//! it reports a [`TrainError::NonFiniteLoss`], so that the message blames the learning rate
//! only when the weights grew or diverged, and says so when no update had been made yet.

use burn::module::Module;
use pgl_core::{StepKind, setting};

use crate::error::TrainError;
use crate::inspect::{BrokenTensor, ParamValues, broken_values, describe_broken, param_values};
use crate::model::DecoupledModel;
use crate::objective::ObjectiveHeads;

/// `error` with its hint filled in from the weights its loss depends on, as they are after the
/// failed step: module k's (with its extra heads) for module k's loss in a local step, every
/// module's for a global step. Every other error is returned as it is.
///
/// - weights that are not finite after updates: the updates diverged, try a lower `--lr`;
/// - weights that were not finite before any update: the initial weights are broken;
/// - finite weights before any update: not the learning rate, the data or the objective;
/// - finite weights after updates: the largest magnitude, and a lower `--lr` if it is large.
pub(crate) fn explain_non_finite<M: DecoupledModel>(
    mut error: TrainError,
    model: &M,
    heads: &ObjectiveHeads,
) -> TrainError {
    let TrainError::NonFiniteLoss {
        iteration,
        kind,
        module,
        hint,
        ..
    } = &mut error
    else {
        return error;
    };
    let modules = model.num_modules();
    // Module k's loss in a local step depends on module k's weights (an earlier module whose
    // weights broke would have failed first, on its own loss); a global step's on every
    // module's. Module k's are also the same in a pipelined run as in a sequential one, where
    // earlier module groups may already be a batch or two ahead.
    let (range, which) = match kind {
        StepKind::Local => {
            let k = (*module).clamp(1, modules);
            (k - 1..k, format!("module {k}'s weights"))
        }
        StepKind::Global => (0..modules, "the weights".to_string()),
    };
    let (broken, largest) = inspect(model, heads, range);
    // Iteration 1 of a run is its first step: no update of this run came before its losses.
    let first = *iteration <= 1;
    *hint = match (broken.is_empty(), first) {
        (false, false) => format!(
            "; {which} are no longer finite ({}): the updates diverged, try a lower {}",
            describe_broken(&broken),
            setting("lr")
        ),
        (false, true) => format!(
            "; {which} were not finite before any update ({}): the initial weights are broken",
            describe_broken(&broken)
        ),
        (true, true) => format!(
            "; no update had been made and {which} are finite, so the learning rate is not the \
             cause: look at the data and the objective's settings"
        ),
        (true, false) => format!(
            "; {which} are still finite (largest magnitude {largest:e}): a lower {} helps if \
             that is large, otherwise look at the data and the objective's settings",
            setting("lr")
        ),
    };
    error
}

/// The broken parameters (running statistics aside) of the modules `range` (0-based) of `model` and their extra
/// heads, and the largest magnitude of their finite values.
fn inspect<M: DecoupledModel>(
    model: &M,
    heads: &ObjectiveHeads,
    range: std::ops::Range<usize>,
) -> (Vec<BrokenTensor>, f32) {
    let modules = model.num_modules();
    let parts = [range.start, range.len(), modules - range.end];
    let sizes: Vec<usize> = parts.into_iter().filter(|&n| n > 0).collect();
    let index = usize::from(range.start > 0);
    let chosen = model.clone().into_groups(&sizes).swap_remove(index);
    let mut values = updated_parameters(&chosen);
    if !heads.is_empty() {
        values.extend(updated_parameters(
            &heads.clone().into_groups(&sizes).swap_remove(index),
        ));
    }
    let largest = values
        .iter()
        .flat_map(|p| p.values.iter())
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let mut broken = broken_values(values);
    // A group numbers its modules from 0 (`stages.0.…`, `modules.0.…`): name them as the
    // whole model does.
    for b in &mut broken {
        if let Some((field, rest)) = b.path.split_once('.')
            && let Some((k, rest)) = rest.split_once('.')
            && let Ok(k) = k.parse::<usize>()
        {
            b.path = format!("{field}.{}.{rest}", k + range.start);
        }
    }
    (broken, largest)
}

/// The parameters of `module` that updates change: every float tensor but BatchNorm's
/// running statistics, which take in the failed forward pass itself, so they are a consequence
/// of a non-finite loss, not its cause (and are folded in at different moments in pipelined
/// and sequential runs).
fn updated_parameters<M: Module>(module: &M) -> Vec<ParamValues> {
    param_values(module)
        .into_iter()
        .filter(|p| {
            let name = p.path.rsplit('.').next().unwrap_or("");
            name != "running_mean" && name != "running_var"
        })
        .collect()
}
