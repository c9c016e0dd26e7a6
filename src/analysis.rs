//! Drives the pipeline over a set of inputs.
