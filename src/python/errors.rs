//! Core errors become Python exceptions here and nowhere else: caller mistakes are
//! `ValueError` / `TypeError` subclasses whose message says what was wrong and how to fix it.
