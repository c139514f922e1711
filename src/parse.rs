//! (core-reward helper fills this module)
