//! Planning a pipeline: how many workers, the module costs measured by the first local
//! steps, and the contiguous module groups that balance them.

use pgl_core::{GuidanceSchedule, setting};

use crate::error::TrainError;

/// Local steps timed module by module before a pipeline chooses its groups.
pub const CALIBRATION_STEPS: usize = 2;

/// How a trainer pipelines its local steps: the number of workers, the module costs measured
/// so far and, once calibrated, the groups.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PipelinePlan {
    workers: usize,
    /// Seconds per module summed over the calibration steps so far.
    module_costs: Vec<f64>,
    calibration_left: usize,
    groups: Option<Vec<usize>>,
}

impl PipelinePlan {
    /// A plan of `workers` workers for a model of `modules` modules trained with `schedule`,
    /// or why it cannot run: at least one worker, at most one per module, and a schedule that
    /// does not read losses (a pipeline cannot give it the previous step's loss in time).
    pub fn new(
        workers: usize,
        modules: usize,
        schedule: &dyn GuidanceSchedule,
    ) -> Result<Self, TrainError> {
        let reason = if workers == 0 {
            Some(format!("{} needs at least 1 worker", setting("pipeline")))
        } else if workers > modules {
            Some(format!(
                "{} needs at least {workers} modules, the model has K={modules}",
                setting("pipeline").with(workers)
            ))
        } else if schedule.uses_losses() {
            Some(format!(
                "schedule `{}` reads the loss of the previous step, which a pipeline has not finished yet; use an iteration- or epoch-based schedule",
                schedule.spec()
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => Err(TrainError::Pipeline { reason }),
            None => Ok(Self {
                workers,
                module_costs: Vec::new(),
                calibration_left: CALIBRATION_STEPS,
                groups: None,
            }),
        }
    }

    /// Module counts of the groups, once calibrated.
    pub fn groups(&self) -> Option<&[usize]> {
        self.groups.as_deref()
    }

    /// Adds the module timings of one sequential local step; the groups are cut after
    /// [`CALIBRATION_STEPS`] of them.
    pub fn add_timings(&mut self, timings: &[f64]) {
        if self.module_costs.is_empty() {
            self.module_costs = timings.to_vec();
        } else {
            self.module_costs
                .iter_mut()
                .zip(timings)
                .for_each(|(c, t)| *c += t);
        }
        self.calibration_left = self.calibration_left.saturating_sub(1);
        if self.calibration_left == 0 {
            self.groups = Some(balanced_groups(&self.module_costs, self.workers));
        }
    }
}

/// Sizes of `workers` contiguous groups of modules whose costs `costs` (seconds per module)
/// make the slowest group as fast as possible: the pipeline runs at the pace of its slowest
/// worker.
pub fn balanced_groups(costs: &[f64], workers: usize) -> Vec<usize> {
    let k = costs.len();
    let w = workers.clamp(1, k.max(1));
    let prefix: Vec<f64> = std::iter::once(0.0)
        .chain(costs.iter().scan(0.0, |sum, c| {
            *sum += c;
            Some(*sum)
        }))
        .collect();
    // best[g][i]: the smallest possible slowest-group cost of the first i modules in g groups.
    let mut best = vec![vec![f64::INFINITY; k + 1]; w + 1];
    let mut cut = vec![vec![0usize; k + 1]; w + 1];
    best[0][0] = 0.0;
    for g in 1..=w {
        for i in g..=k {
            for j in (g - 1)..i {
                let cost = best[g - 1][j].max(prefix[i] - prefix[j]);
                if cost < best[g][i] {
                    best[g][i] = cost;
                    cut[g][i] = j;
                }
            }
        }
    }
    let mut sizes = vec![0; w];
    let mut end = k;
    for g in (1..=w).rev() {
        let start = cut[g][end];
        sizes[g - 1] = end - start;
        end = start;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::balanced_groups;

    #[test]
    fn balanced_groups_minimise_the_slowest_group() {
        assert_eq!(balanced_groups(&[1.0, 1.0, 1.0, 1.0], 2), vec![2, 2]);
        assert_eq!(balanced_groups(&[6.0, 1.0, 1.0, 1.0], 2), vec![1, 3]);
        assert_eq!(balanced_groups(&[1.0, 1.0, 1.0, 6.0], 2), vec![3, 1]);
        assert_eq!(
            balanced_groups(&[3.0, 3.0, 2.0, 2.0, 2.0], 3),
            vec![1, 2, 2],
            "3 | 3+2 | 2+2"
        );
        assert_eq!(balanced_groups(&[1.0, 2.0, 3.0], 3), vec![1, 1, 1]);
        assert_eq!(
            balanced_groups(&[1.0, 2.0], 5),
            vec![1, 1],
            "at most one worker per module"
        );
        let sizes = balanced_groups(&[0.5; 16], 4);
        assert_eq!(sizes, vec![4, 4, 4, 4]);
    }
}
