//! (verl helper fills this module: token-id decoding straight from a vocabulary table)
