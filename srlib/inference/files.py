"""Upscaling files and folders with a checkpoint: what ``srlib upscale`` does.

Taught in notebook 02.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from ..data.image_io import list_images, read_image, write_image
from ..models.registry import build_model
from ..models.weights import load_weights
from .tiles import upscale


def upscale_files(source: str | Path, target: str | Path, scale: int, checkpoint: str | Path, *,
                  arch: str = "rrdbnet", tile: int | None = None, self_ensemble: bool = False,
                  overwrite: bool = False, progress: bool = True) -> list[Path]:
    """Upscale one image (``target`` is a file) or every image of a folder (``target`` is a folder).

    Existing outputs are never replaced unless ``overwrite``; that is checked for every file
    before any work starts, so a refused run changes nothing.
    """
    source, target = Path(source), Path(target)
    if source.is_dir():
        pairs = [(p, target / p.name) for p in list_images(source)]
    elif source.is_file():
        pairs = [(source, target)]
    else:
        raise FileNotFoundError(f"input not found: {source}")
    taken = [str(out) for _, out in pairs if out.exists()]
    if taken and not overwrite:
        raise FileExistsError(f"output exists (use --overwrite to replace): {', '.join(taken[:5])}")
    model = build_model(arch, scale=scale)
    load_weights(model, checkpoint)
    written = []
    for src, out in tqdm(pairs, desc="upscale", disable=not progress):
        result = upscale(model, read_image(src), scale, tile=tile, self_ensemble=self_ensemble)
        try:
            written.append(write_image(out, result))
        except OSError as err:
            raise PermissionError(f"cannot write {out}: {err.strerror or err}") from err
    return written
