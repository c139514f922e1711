//! (sampler/vote helper fills this module)
