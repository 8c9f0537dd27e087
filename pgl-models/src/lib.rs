//! pgl-models
