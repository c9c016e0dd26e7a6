//! Rendering of a finished analysis.
