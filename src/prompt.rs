//! (prompt helper fills this module)
