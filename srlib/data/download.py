"""Downloading the real datasets: resumable, checksummed, extracted without path escape.

What to fetch is listed in ``srlib/resources/datasets.json`` (URL, size and sha256 where known). Nothing in
the course downloads by default; a user runs ``srlib download NAME``.

Taught in notebook 01.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import lzma
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from ..paths import RESOURCES

MANIFEST = RESOURCES / "datasets.json"
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed, was refused, or does not match its recorded size / checksum (an I/O error, so that
    the ``srlib`` command reports it in one line)."""


@dataclass(frozen=True)
class RemoteDataset:
    """One download as recorded in the manifest: an archive to extract, or (``kind`` "weights") a network's
    weights file, kept as it is once it has loaded as weights (``torch.load(weights_only=True)``)."""

    name: str
    url: str | None
    filename: str
    size: int | None
    sha256: str | None
    description: str
    homepage: str
    licence: str
    kind: str = "archive"


def load_manifest(path: str | Path = MANIFEST) -> dict[str, RemoteDataset]:
    """The datasets the course knows how to fetch, by name."""
    entries = json.loads(Path(path).read_text())
    return {e["name"]: RemoteDataset(**e) for e in entries}


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: str | Path, *, size: int | None = None, sha256: str | None = None,
             progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``dest``, resuming a partial ``dest.part`` with an HTTP Range request.

    The file only takes its final name once complete and, where recorded, of the right size and
    checksum; a mismatch removes the partial file and raises ``DownloadError``.
    """
    dest = Path(dest)
    if dest.exists() and (sha256 is None or sha256_of(dest) == sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have and (size is None or have == size):  # the part is already whole
            response = None
        else:
            raise DownloadError(f"download of {url} failed: HTTP {err.code} {err.reason}") from err
    except OSError as err:
        raise DownloadError(f"download of {url} failed: {err}") from err
    if response is not None:
        try:
            _stream(response, part, have, size, dest.name, progress)
        except (http.client.HTTPException, OSError) as err:
            raise DownloadError(f"download of {url} interrupted ({err!r}); run again to resume") from err
    got = part.stat().st_size
    if size is not None and got != size:
        if got > size:
            part.unlink()
        raise DownloadError(f"{url}: got {got} bytes, expected {size} (run again to resume)")
    if sha256 is not None and (actual := sha256_of(part)) != sha256:
        part.unlink()
        raise DownloadError(f"{url}: sha256 {actual} does not match the recorded {sha256}; file removed")
    os.replace(part, dest)
    return dest


def _stream(response, part: Path, have: int, size: int | None, label: str, progress: bool) -> None:
    """Append (206) or write (200) the body to ``part``; a body shorter than announced is an error."""
    with response:
        resumed = response.status == 206
        announced = int(response.headers.get("Content-Length", -1))
        total = size or (announced + (have if resumed else 0) if announced >= 0 else None)
        received = 0
        with open(part, "ab" if resumed else "wb") as f, tqdm(
            total=total, initial=have if resumed else 0, unit="B", unit_scale=True, desc=label, disable=not progress
        ) as bar:
            while chunk := response.read1(_CHUNK):
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        if 0 <= announced != received:
            raise http.client.IncompleteRead(b"", announced - received)


def _check_member(name: str, target: Path) -> Path:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not (target / name).resolve().is_relative_to(target):
        raise DownloadError(f"archive entry {name!r} would escape {target}; refusing to extract")
    return target / name


def safe_extract(archive: str | Path, target: str | Path) -> list[Path]:
    """Extract a .zip / .tar(.gz|.bz2|.xz) into ``target``, refusing entries that escape it.

    Absolute paths, ``..`` components and links pointing outside are refused before anything is
    written.
    """
    archive, target = Path(archive), Path(target).resolve()
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            for name in names:
                _check_member(name, target)
            zf.extractall(target)
        return [target / n for n in names]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_member(m.name, target)
                if m.issym() or m.islnk():
                    link = (target / m.name).parent / m.linkname if m.issym() else target / m.linkname
                    if not link.resolve().is_relative_to(target):
                        raise DownloadError(f"archive link {m.name!r} -> {m.linkname!r} escapes {target}; refusing")
                if m.isdev():
                    raise DownloadError(f"archive entry {m.name!r} is a device file; refusing")
            tf.extractall(target, filter="data")
        return [target / m.name for m in members]
    raise DownloadError(f"{archive} is neither a zip nor a tar archive")


def verify_archive(archive: str | Path) -> None:
    """Read a zip / tar archive to its end (a zip's CRCs; a tar's members, compressed stream and end marker):
    a download cut short without a known size is caught here, before anything is extracted."""
    try:
        problem = _archive_problem(Path(archive))
    except (tarfile.TarError, EOFError, OSError, zipfile.BadZipFile, zlib.error, lzma.LZMAError) as err:
        problem = f"truncated or corrupt ({err})"
    if problem:
        raise DownloadError(f"{archive}: {problem}")


def _archive_problem(archive: Path) -> str | None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            corrupt = zf.testzip()
        return f"member {corrupt} fails its CRC check (corrupt download)" if corrupt else None
    with tarfile.open(archive) as tf:
        for member in tf:
            if member.isfile():
                with tf.extractfile(member) as f:  # type: ignore[union-attr]  # a file member always has data
                    while f.read(1 << 20):
                        pass
        # tarfile stops quietly at the end of the data, so a file cut between two members reads as whole: the
        # end-of-archive marker (two zero blocks) must follow the last member, not merely zeros end the file
        tf.fileobj.seek(tf.offset)
        marker = tf.fileobj.read(2 * tarfile.BLOCKSIZE)
    if len(marker) < 2 * tarfile.BLOCKSIZE or marker.strip(b"\0"):
        return "lacks the end of a tar archive after its last member: the download was cut short"
    return None


def _keep_weights(source: str | Path, target: Path, downloaded: bool) -> Path:
    """Check that ``source`` loads as weights, then copy it into ``target`` (marked complete); returns ``target``."""
    from ..safe_load import CheckpointError, safe_load  # torch only for weights

    try:
        if not isinstance(safe_load(source), dict):
            raise CheckpointError("it holds no named weights")
    except CheckpointError as err:
        if downloaded:  # the cached copy is bad: the next run fetches it anew (a user's own file is kept)
            Path(source).unlink(missing_ok=True)
        raise DownloadError(f"{source} is not a weights file: {err}") from err
    _publish(target, lambda staging: shutil.copyfile(source, staging / Path(source).name))
    (target / ".complete").write_text(sha256_of(target / Path(source).name) + "\n")
    return target


def _publish(target: Path, fill: Callable[[Path], object]) -> None:
    """Fill a fresh staging folder beside ``target``, then rename it to ``target``: a failure leaves neither.
    The staging folder's name is new each time, so no folder of the user's is ever emptied or reused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging.", dir=target.parent))
    try:
        fill(staging)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def fetch_dataset(name: str, root: str | Path, *, manifest: dict[str, RemoteDataset] | None = None,
                  archive: str | Path | None = None, progress: bool = True) -> Path:
    """Download (or take the given ``archive``), verify and extract dataset ``name`` under ``root``.

    Returns the folder it was extracted into. Datasets without a direct URL (behind a sign-in
    page) need ``archive=`` pointing at the file the user fetched from the homepage.
    """
    manifest = manifest if manifest is not None else load_manifest()
    if name not in manifest:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(manifest))}")
    entry = manifest[name]
    root = Path(root)
    target = root / name
    if (target / ".complete").exists():
        return target
    if target.exists():  # never delete what this function did not make: a finished extraction has .complete
        if any(target.iterdir()):
            raise DownloadError(f"{target} exists and was not made by a finished download of {name} (no .complete): "
                                "move it away or remove it, then run again")
        target.rmdir()
    downloaded = archive is None
    if downloaded:
        if entry.url is None:
            raise DownloadError(f"{name} has no direct download; fetch {entry.filename} from {entry.homepage} "
                                f"and pass it with --archive")
        archive = download(entry.url, root / "archives" / entry.filename, size=entry.size,
                           sha256=entry.sha256, progress=progress)
    assert archive is not None
    if not downloaded and entry.sha256 is not None and sha256_of(archive) != entry.sha256:
        raise DownloadError(f"{archive} does not match the recorded sha256 of {name}")
    if entry.kind == "weights":
        return _keep_weights(archive, target, downloaded)
    try:
        verify_archive(archive)
    except DownloadError:
        if downloaded:  # the cached copy is bad: the next run fetches it anew (a user's own file is kept)
            Path(archive).unlink(missing_ok=True)
        raise
    _publish(target, lambda staging: safe_extract(archive, staging))
    (target / ".complete").write_text(sha256_of(archive) + "\n")
    return target
