"""Rebuild ``srlib/resources/samples/`` from photos that installed Python packages ship (no network).

Run from the repository root with the course environment: ``python data/build_samples.py``.
Copies each file byte for byte and records its origin, licence, size and sha256 in
``srlib/resources/samples/manifest.json``; the tests check the committed files against that manifest.
"""

import hashlib
import json
import shutil
from importlib.util import find_spec
from pathlib import Path

import cv2

SAMPLES = Path(__file__).resolve().parent.parent / "srlib" / "resources" / "samples"

# (package, path inside the package, licence, credit)
SOURCES = [
    ("skimage", "data/astronaut.png", "public domain", "NASA (Eileen Collins), via scikit-image"),
    ("skimage", "data/coffee.png", "CC0", "Rachel Michetti, via scikit-image"),
    ("skimage", "data/chelsea.png", "CC0", "Stefan van der Walt, via scikit-image"),
    ("skimage", "data/rocket.jpg", "public domain", "SpaceX (DSCOVR launch), via scikit-image"),
    ("skimage", "data/hubble_deep_field.jpg", "public domain", "NASA/ESA Hubble, via scikit-image"),
    ("skimage", "data/ihc.png", "no known copyright restrictions", "immunohistochemistry sample, via scikit-image"),
    ("skimage", "data/retina.jpg", "CC0 1.0", "Wikimedia Commons retina photo, via scikit-image"),
    ("skimage", "data/camera.png", "CC0", "Lav Varshney (grayscale), via scikit-image"),
    ("sklearn", "datasets/images/china.jpg", "CC BY 2.0", "danielbuechele on Flickr, via scikit-learn"),
    ("sklearn", "datasets/images/flower.jpg", "CC BY 2.0", "vultilion on Flickr, via scikit-learn"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "public domain", "US Navy, via matplotlib"),
]


def main() -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    manifest = []
    for package, inner, licence, credit in SOURCES:
        src = Path(find_spec(package).origin).parent / inner
        dst = SAMPLES / src.name
        shutil.copyfile(src, dst)
        image = cv2.imread(str(dst), cv2.IMREAD_UNCHANGED)
        manifest.append({
            "file": dst.name, "package": package, "path_in_package": inner, "licence": licence,
            "credit": credit, "width": int(image.shape[1]), "height": int(image.shape[0]),
            "channels": 1 if image.ndim == 2 else int(image.shape[2]),
            "sha256": hashlib.sha256(dst.read_bytes()).hexdigest(),
        })
    (SAMPLES / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(manifest)} images to {SAMPLES}")


if __name__ == "__main__":
    main()
