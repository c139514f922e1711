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
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from ..._optional import require_parquet

PathLike = Union[str, "os.PathLike[str]"]
Record = dict[str, Any]

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
    raise DataError(f"{path}: unknown file type; use .jsonl (JSON lines), .json (a JSON list) or .parquet")


def read_records(path: PathLike) -> list[tuple[str, Record]]:
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


def parse_json_line(line: str | bytes, where: str) -> Any:
    """One JSON value from a line of a file; every way a line can be unreadable (invalid UTF-8,
    bad JSON, an integer of thousands of digits, nesting deeper than Python's recursion limit)
    is a DataError that starts with ``where`` (the file and line)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{where}: not valid UTF-8 (byte {exc.start + 1} of the line); save the file as UTF-8"
            ) from None
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply to read; flatten the record") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise DataError(f"{where}: unreadable JSON value ({exc})") from None


_INT64 = (-(1 << 63), 1 << 63)


def check_id(value: Any, where: str, field: str) -> str | int:
    """A pair or item id read from a file: a string, or an integer that fits in 64 bits (the
    rule of ``patarm.score_batch``). A bool, a float (NaN included), null or a list is a
    DataError naming the file, the line and the field."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if _INT64[0] <= value < _INT64[1]:
            return value
        raise DataError(
            f"{where}: field {field!r}: integer id {value} is outside the 64-bit range; write it as a string"
        )
    raise DataError(f"{where}: field {field!r} must be a string or an integer, got {type(value).__name__} ({value!r})")


def _iter_jsonl(path: Path) -> Iterator[tuple[str, Record]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:line {number}"
            record = parse_json_line(line, where)
            if not isinstance(record, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
            yield where, record


def _read_json_list(path: Path) -> list[tuple[str, Record]]:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        data = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:line {line}: not valid UTF-8; save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply to read") from None
    except ValueError as exc:
        raise DataError(f"{path}: unreadable JSON value ({exc})") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of objects (or use .jsonl for JSON lines)")
    out = []
    for index, record in enumerate(data):
        where = f"{path} item {index}"
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
        out.append((where, record))
    return out


def _read_parquet(path: Path) -> list[tuple[str, Record]]:
    pq = _import_pyarrow_parquet()
    import pyarrow as pa

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:  # e.g. a truncated or binary non-parquet file
        raise DataError(f"{path}: not a readable parquet file ({exc})") from None
    return [(f"{path} row {index}", record) for index, record in enumerate(table.to_pylist())]


def _import_pyarrow_parquet():
    return require_parquet()


def check_writable(*targets: PathLike | None) -> None:
    """Fail now, before any work or any folder is made, if an output cannot be written: an
    unknown suffix, or parquet without pyarrow. ``None`` targets are skipped."""
    for target in targets:
        if target is not None and _kind(Path(target)) == "parquet":
            require_parquet()


def _umask() -> int:
    """The process umask, read without changing it where Linux reports it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it, then put it back at once
    os.umask(mask)
    return mask


def _output_mode(target: Path) -> int:
    """Permissions for a new output: those of the file it replaces, else what ``open()``
    would give (0o666 less the umask). mkstemp's own 0600 is never kept."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success,
    so a failure, a kill or Ctrl-C leaves the old file (or none) and never a partial one."""
    target = Path(target)
    # Folders made for this output are removed again if it fails: no empty data/ left behind.
    made = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    succeeded = False
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            os.chmod(tmp, _output_mode(target))
            os.replace(tmp, target)
            succeeded = True
        finally:
            if tmp.exists():
                tmp.unlink()
    finally:
        if not succeeded:
            for folder in made:  # innermost first; a folder something else wrote into stays
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _write_parquet_to(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    pq = _import_pyarrow_parquet()
    import pyarrow as pa  # imported on use: `import patarm` stays light

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
    require_parquet()
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


def write_rows_together(outputs: Sequence[tuple[Sequence[Mapping[str, Any]], PathLike]]) -> None:
    """Write several files so that either all of them appear or none: every file is written
    to its temporary path first, and the renames happen only once all writes succeeded."""
    kinds = [_kind(Path(target)) for _, target in outputs]
    check_writable(*(target for _, target in outputs))
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_path(target)) for _, target in outputs]
        for (rows, _), tmp, kind in zip(outputs, temps, kinds, strict=True):
            _write_any_to(rows, tmp, kind)


def progress(iterable, *, total: int | None = None, desc: str = "", min_items: int = 1000):
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
    "check_id",
    "check_writable",
    "parse_json_line",
    "json_safe",
    "progress",
    "read_records",
    "write_json",
    "write_jsonl",
    "write_parquet",
    "write_rows",
    "write_rows_together",
]
