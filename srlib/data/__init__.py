"""The data, taught in notebook 01: reading images, MATLAB's bicubic, LR images, hold-out splits,
sub-images, the augmented training set, the bundled photos and the real datasets' downloads."""

from .dataset import PairedImageDataset, aligned_crop, d4
from .degrade import make_lr, modcrop, prepare_pairs
from .download import DownloadError, fetch_dataset, load_manifest
from .image_io import (
                       ImageReadError,
                       decode_image,
                       image_to_tensor,
                       list_images,
                       read_image,
                       split_alpha,
                       tensor_to_image,
                       to_rgb,
                       write_image,
)
from .resize import imresize
from .samples import SAMPLE_FRACTIONS, sample_manifest, sample_split
from .split import bootstrap_split, holdout_split, kfold_split, shared_sources, source_of
from .subimages import count_subimages, extract_subimages, leaked_pixel_fraction, subimage_box, subimage_boxes

__all__ = [
    "PairedImageDataset", "aligned_crop", "d4", "make_lr", "modcrop", "prepare_pairs", "DownloadError",
    "fetch_dataset", "load_manifest", "ImageReadError", "decode_image", "image_to_tensor", "list_images", "read_image",
    "split_alpha", "tensor_to_image", "to_rgb", "write_image", "imresize", "SAMPLE_FRACTIONS", "sample_manifest",
    "sample_split", "bootstrap_split", "holdout_split", "kfold_split", "shared_sources", "source_of",
    "count_subimages", "extract_subimages", "leaked_pixel_fraction", "subimage_box", "subimage_boxes",
]
