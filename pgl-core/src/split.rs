//! [`SplitPlan`]: how a network of N layers is cut into K contiguous, non-empty modules.

use std::ops::Range;

use serde::Serialize;

use crate::error::CoreError;

/// A validated cut of `layers` layers into contiguous non-empty modules, in order.
///
/// Stored as the start index of every module after the first (the *split points*), so a plan
/// with K modules has K-1 strictly increasing points in `1..layers`.
///
/// ```
/// use pgl_core::SplitPlan;
/// let plan = SplitPlan::even(10, 4).unwrap();
/// assert_eq!(plan.modules(), vec![0..3, 3..6, 6..8, 8..10]);
/// assert_eq!(plan.module_of(5), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitPlan {
    layers: usize,
    points: Vec<usize>,
}

impl SplitPlan {
    fn invalid(layers: usize, reason: impl Into<String>) -> CoreError {
        CoreError::InvalidSplit {
            layers,
            reason: reason.into(),
        }
    }

    /// `modules` modules of as equal a size as possible (the first ones get the extra layers).
    pub fn even(layers: usize, modules: usize) -> Result<Self, CoreError> {
        if modules == 0 {
            return Err(Self::invalid(
                layers,
                "the number of modules must be at least 1",
            ));
        }
        if modules > layers {
            return Err(Self::invalid(
                layers,
                format!("cannot make {modules} non-empty modules (at most {layers})"),
            ));
        }
        let base = layers / modules;
        let extra = layers % modules;
        let mut points = Vec::with_capacity(modules - 1);
        let mut start = 0;
        for k in 0..modules - 1 {
            start += base + usize::from(k < extra);
            points.push(start);
        }
        Ok(Self { layers, points })
    }

    /// Modules starting at each of `points` (strictly increasing, each in `1..layers`), plus
    /// the first module starting at layer 0.
    pub fn from_points(layers: usize, points: &[usize]) -> Result<Self, CoreError> {
        if layers == 0 {
            return Err(Self::invalid(layers, "there are no layers to split"));
        }
        let mut previous = 0;
        for &p in points {
            if p <= previous {
                return Err(Self::invalid(
                    layers,
                    format!("split points must be strictly increasing and >= 1, got {points:?}"),
                ));
            }
            if p >= layers {
                return Err(Self::invalid(
                    layers,
                    format!(
                        "split point {p} leaves an empty last module (points must be < {layers})"
                    ),
                ));
            }
            previous = p;
        }
        Ok(Self {
            layers,
            points: points.to_vec(),
        })
    }

    /// Number of layers being split.
    pub fn layers(&self) -> usize {
        self.layers
    }

    /// Number of modules K.
    pub fn num_modules(&self) -> usize {
        self.points.len() + 1
    }

    /// The split points (start layer of modules 2..K).
    pub fn points(&self) -> &[usize] {
        &self.points
    }

    /// The layer range of every module, in order.
    pub fn modules(&self) -> Vec<Range<usize>> {
        let mut starts = vec![0];
        starts.extend(&self.points);
        let mut ends = self.points.clone();
        ends.push(self.layers);
        starts.into_iter().zip(ends).map(|(s, e)| s..e).collect()
    }

    /// The module that holds `layer` (`layer < layers`).
    pub fn module_of(&self, layer: usize) -> usize {
        self.points.partition_point(|&p| p <= layer)
    }
}
