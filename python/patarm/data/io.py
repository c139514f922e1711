"""Reading preference / judgement files and writing outputs atomically.

Inputs are JSON lines (``.jsonl``, ``.ndjson``), a JSON list (``.json``) or parquet. Every record
comes with a location string (``file:line 3`` or ``file row 3``) so that errors can name it.
Outputs are written to a temporary file in the destination folder, then renamed over the target:
a failed run never leaves a half-written file behind.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]
Record = Dict[str, Any]

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")


class DataError(ValueError):
    """Bad input data: the message names the file, the line or row, and the field."""


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    raise DataError(
        f"{path}: unknown file type; use .jsonl (JSON lines), .json (a JSON list) or .parquet"
    )


def read_records(path: PathLike) -> List[Tuple[str, Record]]:
    """Read every record of a JSON-lines, JSON-list or parquet file as ``(location, dict)``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    kind = _kind(path)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "json":
        return _read_json_list(path)
    return list(_iter_jsonl(path))


def _iter_jsonl(path: Path) -> Iterator[Tuple[str, Record]]:
    with open(path, "r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(record, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
            yield where, record


def _read_json_list(path: Path) -> List[Tuple[str, Record]]:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of objects (or use .jsonl for JSON lines)")
    out = []
    for index, record in enumerate(data):
        where = f"{path} item {index}"
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
        out.append((where, record))
    return out


def _read_parquet(path: Path) -> List[Tuple[str, Record]]:
    pq = _import_pyarrow_parquet()
    table = pq.read_table(path)
    return [(f"{path} row {index}", record) for index, record in enumerate(table.to_pylist())]


def _import_pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - exercised only without pyarrow
        raise ImportError(
            "parquet files need pyarrow: pip install 'patarm[data]' (or pip install pyarrow)"
        ) from exc
    return pq


@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_parquet_to(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    import pyarrow as pa  # lazy: optional dependency

    pq = _import_pyarrow_parquet()
    pq.write_table(pa.Table.from_pylist(list(rows)), path)


def _write_jsonl_to(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")


def _write_json_to(obj: Any, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def _write_any_to(rows: Sequence[Mapping[str, Any]], path: Path, kind: str) -> None:
    if kind == "parquet":
        _write_parquet_to(rows, path)
    elif kind == "jsonl":
        _write_jsonl_to(rows, path)
    else:
        _write_json_to(list(rows), path)


def write_parquet(rows: Sequence[Mapping[str, Any]], target: PathLike) -> None:
    """Write rows (dicts, nested values allowed) to parquet, atomically."""
    with atomic_path(target) as tmp:
        _write_parquet_to(rows, tmp)


def write_jsonl(rows: Sequence[Mapping[str, Any]], target: PathLike) -> None:
    """Write rows as JSON lines, atomically."""
    with atomic_path(target) as tmp:
        _write_jsonl_to(rows, tmp)


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN / inf floats replaced by None (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: json_safe(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(value) for value in obj]
    return obj


def write_json(obj: Any, target: PathLike) -> None:
    """Write one JSON document (NaN written as null), atomically."""
    obj = json_safe(obj)
    with atomic_path(target) as tmp:
        _write_json_to(obj, tmp)


def write_rows(rows: Sequence[Mapping[str, Any]], target: PathLike) -> None:
    """Write rows to parquet, JSON lines or a JSON list (by the target's suffix), atomically."""
    write_rows_together([(rows, target)])


def write_rows_together(outputs: Sequence[Tuple[Sequence[Mapping[str, Any]], PathLike]]) -> None:
    """Write several files so that either all of them appear or none: every file is written
    to its temporary path first, and the renames happen only once all writes succeeded."""
    kinds = [_kind(Path(target)) for _, target in outputs]
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_path(target)) for _, target in outputs]
        for (rows, _), tmp, kind in zip(outputs, temps, kinds):
            _write_any_to(rows, tmp, kind)


def progress(iterable, *, total: Optional[int] = None, desc: str = "", min_items: int = 1000):
    """Wrap an iterable in a tqdm bar when tqdm is installed and the input is long."""
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    if total is not None and total < min_items:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="pair", leave=False)


__all__ = [
    "DataError",
    "atomic_path",
    "json_safe",
    "progress",
    "read_records",
    "write_json",
    "write_jsonl",
    "write_parquet",
    "write_rows",
    "write_rows_together",
]
