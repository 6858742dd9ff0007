"""Atomic checkpoints for long runs: each checkpoint is one directory, published by one rename.

Layout of a run directory::

    run.json            what determines the run (config, seed, dtype, version); written first
    run.lock            the id of the process writing the run (a second writer is refused)
    ckpt-000042/        the newest complete checkpoint: arrays.npz + meta.json
    .tmp-ckpt-*/        a checkpoint being written (ignored; removed on the next save)
    segments.json       one entry per process that ran the run: start, code commit, where it began
                        and where it stood at its last checkpoint, wall time
    summary.json ...    outputs, written when the run is done

A checkpoint directory is written in full under a temporary name, its files flushed to disk, and then
renamed (atomic on POSIX file systems): a kill at any point leaves either the previous checkpoint or
the new one, never a mixture. Older checkpoints are removed only after the new one is published.
"""

import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import jax
import numpy as np

_NAME = re.compile(r"^ckpt-(\d{6})$")


def _fault(point: str) -> None:
    """Called at every write point of a save; tests replace it to inject a kill there."""


def _write_json(path: Path, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj) -> None:
    """Write `obj` as JSON to `path` by a temporary file and one rename."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    _write_json(tmp, obj)
    os.replace(tmp, path)


class RunDirectory:
    """A run's directory: its identity (`run.json`) and its atomic checkpoints.

    `identity` is a JSON-able dict of everything that determines the run. Opening a directory that
    already holds a run requires `resume=True` (continue it; the identities must agree) or
    `overwrite=True` (delete it and start again); `resume=True` on a directory without a checkpoint
    is an error.
    """

    # recorded but not compared on resume: the package version and the checkpoint format a run was
    # upgraded from (numerics that change a run are
    # versioned by the caller's own identity fields, e.g. run_paper's `protocol`)
    UNCHECKED = ("version", "upgraded_from")

    def __init__(self, path, identity: dict, *, resume: bool = False, overwrite: bool = False):
        self.path = Path(path)
        self.identity = identity
        if resume and overwrite:
            raise ValueError("`resume` and `overwrite` exclude each other")
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"`out` ({self.path}) exists and is not a directory")
        existing = self.path / "run.json"
        if resume:
            if not existing.exists() or self.latest_name() is None:
                raise ValueError(f"resume: no checkpoint in {self.path}")
            self._check_identity(existing)
            self._lock()
            return
        if existing.exists() or self.latest_name() is not None:
            self._check_lock()
            if not overwrite:
                raise ValueError(f"`out` ({self.path}) already holds a run; pass resume=True "
                                 "(--resume) to continue it or overwrite=True (--overwrite) to "
                                 "replace it")
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        write_json_atomic(existing, identity)

    def _lock(self) -> None:
        """Hold `run.lock` (this process's id) so that a second process cannot write the same run;
        a lock whose process has exited is taken over."""
        self._check_lock()
        write_json_atomic(self.path / "run.lock", os.getpid())

    def _check_lock(self) -> None:
        lock = self.path / "run.lock"
        try:
            other = int(lock.read_text())
        except (OSError, ValueError):
            other = None
        if other is not None and other != os.getpid():
            try:
                os.kill(other, 0)
                alive = True
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
            if alive:
                raise ValueError(f"`out` ({self.path}) is in use by process {other} "
                                 f"(remove {lock} if that is wrong)")

    def _check_identity(self, path: Path) -> None:
        try:
            saved = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"resume: cannot read {path}: {err}") from None
        diff = sorted(k for k in set(saved) | set(self.identity)
                      if k not in self.UNCHECKED and saved.get(k) != self.identity.get(k))
        if diff:
            detail = "; ".join(f"{k}: checkpoint {saved.get(k)!r}, now {self.identity.get(k)!r}"
                               for k in diff)
            raise ValueError(f"resume: the run in {self.path} was made with another "
                             f"configuration ({detail})")

    def latest_name(self) -> str | None:
        if not self.path.is_dir():
            return None
        names = sorted(p.name for p in self.path.iterdir() if _NAME.match(p.name) and p.is_dir())
        return names[-1] if names else None

    def save(self, arrays: dict, meta: dict) -> Path:
        """Publish a new checkpoint holding `arrays` (name -> NumPy array) and `meta` (JSON).
        Arrays that `load` could not read back (object dtype) are a ValueError before anything
        is written."""
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        bad = sorted(k for k, v in arrays.items() if v.dtype.hasobject)
        if bad:
            raise ValueError(f"checkpoint arrays {bad} have dtype object (ragged or non-numeric): "
                             f"they could not be loaded back")
        for stale in self.path.glob(".tmp-ckpt-*"):
            shutil.rmtree(stale, ignore_errors=True)
        last = self.latest_name()
        number = 0 if last is None else int(_NAME.match(last).group(1)) + 1
        final = self.path / f"ckpt-{number:06d}"
        tmp = self.path / f".tmp-ckpt-{number:06d}"
        tmp.mkdir()
        _fault("arrays")
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        _fault("meta")
        _write_json(tmp / "meta.json", meta)
        _fsync_dir(tmp)
        _fault("publish")
        os.rename(tmp, final)
        _fsync_dir(self.path)
        _fault("prune")
        for p in self.path.iterdir():
            if _NAME.match(p.name) and p.name < final.name:
                shutil.rmtree(p, ignore_errors=True)
        return final

    def log_segment(self, entry: dict, *, new: bool) -> None:
        """Record one process's stretch of the run in `segments.json` (a list, written
        atomically): `new` appends `entry`, else it updates the last segment with `entry`."""
        path = self.path / "segments.json"
        try:
            segments = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            segments = []
        if new or not segments:
            segments.append(entry)
        else:
            segments[-1] |= entry
        write_json_atomic(path, segments)

    def load(self) -> tuple[dict, dict]:
        """`(arrays, meta)` of the newest complete checkpoint; ValueError naming the file if it
        cannot be read."""
        name = self.latest_name()
        if name is None:
            raise ValueError(f"resume: no checkpoint in {self.path}")
        folder = self.path / name
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"resume: cannot read {folder / 'meta.json'}: {err}") from None
        try:
            with open(folder / "arrays.npz", "rb") as f, np.load(f) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"resume: cannot read {folder / 'arrays.npz'}: {err}") from None
        return arrays, meta

    def check_meta(self, meta: dict, steps: tuple) -> None:
        """ValueError naming the newest `meta.json` and the field unless `phase` is an int in
        [1, len(steps) + 1] (the last: finished) and `step` an int in [0, steps[phase - 1]]."""
        where = self.path / str(self.latest_name()) / "meta.json"
        phase, step = meta.get("phase"), meta.get("step")
        if isinstance(phase, bool) or not isinstance(phase, int) or not 1 <= phase <= len(steps) + 1:
            raise ValueError(f"resume: {where}: `phase` must be an integer in [1, "
                             f"{len(steps) + 1}], got {phase!r}")
        limit = steps[phase - 1] if phase <= len(steps) else 0
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= limit:
            raise ValueError(f"resume: {where}: `step` must be an integer in [0, {limit}] for "
                             f"phase {phase}, got {step!r}")

    def check_arrays(self, arrays: dict, expected: dict) -> None:
        """ValueError naming the newest `arrays.npz` and the array that is missing or whose shape
        differs from `expected` ({name: shape}, None for any size of that axis)."""
        where = self.path / str(self.latest_name()) / "arrays.npz"
        for name, shape in expected.items():
            if name not in arrays:
                raise ValueError(f"resume: {where}: array `{name}` is missing")
            got = arrays[name].shape
            if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
                raise ValueError(f"resume: {where}: array `{name}` has shape {got}, this run "
                                 f"needs {tuple('*' if s is None else s for s in shape)}")


def _key_name(path) -> str:
    parts = []
    for k in path:
        for attr in ("key", "name", "idx"):
            if hasattr(k, attr):
                parts.append(str(getattr(k, attr)))
                break
        else:
            parts.append(str(k))
    return ".".join(parts)


def encode(tree) -> dict:
    """THE checkpoint codec, writing: a PyTree as {key path: NumPy array} (`"state.model.W"`,
    `"history.2.rho"`; `None` leaves are dropped)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {_key_name(path): np.asarray(v) for path, v in leaves}


def decode(run: "RunDirectory", arrays: dict, like):
    """THE checkpoint codec, reading: the PyTree `like` (arrays or `jax.ShapeDtypeStruct`s) with
    every leaf read from `arrays` by its key path, in `like`'s dtype. A missing array, or one of
    another shape, is a ValueError naming the checkpoint file and the array (nothing is read)."""
    leaves, tree = jax.tree_util.tree_flatten_with_path(like)
    run.check_arrays(arrays, {_key_name(p): tuple(np.shape(v)) for p, v in leaves})
    return jax.tree_util.tree_unflatten(
        tree, [np.asarray(arrays[_key_name(p)], v.dtype) for p, v in leaves])
