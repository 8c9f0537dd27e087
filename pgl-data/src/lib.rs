//! pgl-data
