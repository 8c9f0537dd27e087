//! pgl-burn
