//! Shared by the kernel tests: comparing pgl's results with Burn's.

/// Largest absolute difference between two equally long value lists, relative to the larger
/// magnitude of the reference (at least 1).
pub fn max_relative_difference(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(ours.len(), reference.len());
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    ours.iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
        / scale
}
