"""RRDBNet with Winograd F(6x6, 3x3) convolutions: the same network on the CPU in about a fifth of the
multiplications of its 3x3 convolutions. Taught in notebook 02.

A 3x3 convolution computes each 6x6 block of its output from the 8x8 block of input around it. Winograd's minimal
filtering algorithm (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) writes that as

    Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A

for a 3x3 kernel g and an 8x8 input block d: 64 multiplications instead of 6 * 6 * 9 = 324. Summed over input
channels, the elementwise product becomes 64 independent matrix products (tiles x C_in) @ (C_in x C_out), which
is where the time goes; the transforms B^T d B and A^T m A are a few passes over memory.

A dense block makes this pay twice. Each of its convolutions reads the concatenation of the block input and all
earlier outputs, and the input transform is linear, so the transform of a concatenation is the concatenation of
transforms: each feature is transformed once, when it is made, and reused by every later convolution (a
runtime that convolves the concatenation transforms the same features up to five times). The residual scale of
the last convolution is folded into its transformed weights.

Used by :func:`srlib.inference.super_resolve` for RRDBNets on the CPU in float32; the direct convolution (oneDNN)
stays the reference, and the tests hold the two to 1e-4 on released weights.
"""

from __future__ import annotations

import itertools
import weakref
from fractions import Fraction
from math import prod

import torch
from torch import nn
from torch.nn import functional as F

from .rrdbnet import RRDB, ResidualDenseBlock, RRDBNet

OUTPUT_BLOCK = 6  # m in F(m x m, 3 x 3): outputs per tile side
INPUT_BLOCK = OUTPUT_BLOCK + 2  # n = m + r - 1: the input block a tile reads
# The interpolation points of the Toom-Cook construction: small and symmetric, so the transforms stay well
# conditioned in float32 (ncnn and Lavin & Gray use the same set for F(6, 3)).
POINTS = (Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2), Fraction(-1, 2))
# The tail runs in bands of about this many LR pixels, each with TAIL_HALO rows of context above and below: its
# convolutions at 2x and 4x reach 1.25 LR rows, so the cropped band is exact.
TAIL_PIXELS, TAIL_HALO = 4096, 2


def _poly(roots: list[Fraction]) -> list[Fraction]:
    """Coefficients (lowest power first) of prod (x - root)."""
    coefficients = [Fraction(1)]
    for root in roots:
        shifted = [Fraction(0)] + coefficients  # x * p(x)
        coefficients = [s - root * c for s, c in zip(shifted, coefficients + [Fraction(0)], strict=True)]
    return coefficients


def winograd_matrices(m: int = OUTPUT_BLOCK, points: tuple[Fraction, ...] = POINTS) -> tuple[torch.Tensor, ...]:
    """A^T (m x n), G (n x 3) and B^T (n x n) of F(m, 3), exact in rationals then rounded once to float64.

    The 1-D identity they satisfy, y_i = sum_k d_(i+k) g_k = (A^T [(G g) * (B^T d)])_i, is the one the tests check;
    the last point is infinity (the rows and columns that pick the highest coefficient)."""
    n = m + 2
    if len(points) != n - 1:
        raise ValueError(f"F({m}, 3) needs {n - 1} finite points, got {len(points)}")
    finite = list(points)
    a_t = [[p**i for p in finite] + [Fraction(int(i == m - 1))] for i in range(m)]
    scale = [prod(p - q for q in finite if q != p) for p in finite]
    g = [[p**k / s for k in range(3)] for p, s in zip(finite, scale, strict=True)] + [[Fraction(0)] * 2 + [Fraction(1)]]
    b_t = [_poly([q for q in finite if q != p]) + [Fraction(0)] for p in finite] + [_poly(finite)]
    return tuple(torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)
                 for rows in (a_t, g, b_t))


A_T, G, B_T = winograd_matrices()
_A_T, _B_T = A_T.float(), B_T.float()  # what the transforms multiply with


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 3, 3) kernels -> (n, n, C_in, C_out): G g G^T for every pair of channels, computed in float64
    so that the only float32 rounding is the final one."""
    u = torch.einsum("ai,kcij,bj->abck", G, weight.detach().double().cpu(), G)
    return u.float().contiguous()


class Tiling:
    """How an H x W feature map is cut into 6x6 output tiles, in bands of whole tile rows, and the padded
    channels-last buffers that hold it: a zero border of one pixel (the convolutions' padding) and room for whole
    tiles at the bottom and right.

    A lone convolution (the upsampling tail's, with 64 x 64 weights) runs band by band, so that its transform,
    products and inverse transform stay in the caches; the work areas are allocated once and reused: a fresh
    tensor of tens of megabytes is mapped anew by the allocator and page-faulted on first touch, which at a
    384x384 feature map cost several times the arithmetic."""

    def __init__(self, height: int, width: int, band_tiles: int = 96) -> None:
        self.height, self.width = height, width
        self.rows, self.cols = -(-height // OUTPUT_BLOCK), -(-width // OUTPUT_BLOCK)
        band_rows = max(1, band_tiles // self.cols)
        self.bands = [(r, min(r + band_rows, self.rows)) for r in range(0, self.rows, band_rows)]
        self._areas: dict[str, torch.Tensor] = {}
        self._buffers: dict[str, torch.Tensor] = {}

    def area(self, name: str, *shape: int) -> torch.Tensor:
        """The work area ``name`` as a contiguous tensor of ``shape`` (grown when a larger one is asked for)."""
        size = prod(shape)
        if name not in self._areas or self._areas[name].numel() < size:
            self._areas[name] = torch.empty(size)
        return self._areas[name][:size].view(shape)

    def buffer(self, name: str, channels: int) -> torch.Tensor:
        """The padded buffer ``name``, zero when first made. Every writer clears the margin after itself, so the
        border stays zero and the buffer can be reused without clearing it again."""
        if name not in self._buffers:
            self._buffers[name] = torch.zeros(OUTPUT_BLOCK * self.rows + 2, OUTPUT_BLOCK * self.cols + 2, channels)
        return self._buffers[name]

    def input_transform(self, buffer: torch.Tensor, band: tuple[int, int], name: str) -> torch.Tensor:
        """B^T d B for the 8x8 blocks (stride 6) of a band of tile rows of a padded buffer, rows then columns, into
        the work area ``name`` of the band: (n, n, tiles of the band, C), contiguous for the products.

        Matrix products with a batch of small matrices, not elementwise arithmetic: each is one pass over
        memory instead of one per coefficient."""
        m, n = OUTPUT_BLOCK, INPUT_BLOCK
        rows, wide, channels = band[1] - band[0], buffer.shape[1], buffer.shape[2]
        # rows: for each tile row, its 8 buffer rows as an (8 x width*C) matrix, overlapping views, no copy
        row_blocks = buffer[m * band[0] :].as_strided((rows, n, wide * channels), (m * wide * channels,
                                                                                    wide * channels, 1))
        by_rows = torch.bmm(_B_T.expand(rows, n, n), row_blocks, out=self.area("rows", rows, n, wide * channels))
        # columns: the 8 columns of every block gathered (the one copy: the blocks overlap), then the same product
        blocks = by_rows.as_strided((n, n, rows, self.cols, channels),
                                    (wide * channels, channels, n * wide * channels, m * channels, 1))
        gathered = self.area("gathered", n, n, rows, self.cols, channels)
        gathered.copy_(blocks)
        out = self.area(name, n, n, rows * self.cols, channels)
        torch.bmm(_B_T.expand(n, n, n), gathered.view(n, n, -1), out=out.view(n, n, -1))
        return out

    def output_transform(self, product: torch.Tensor, bias: torch.Tensor, band: tuple[int, int]) -> torch.Tensor:
        """A^T m A of every tile of a band, plus the bias, as [column in tile, row in tile, tile row, tile column,
        channel]. ``product`` (n, n, tiles of the band, C) is changed in place.

        Column 1 of A^T is all ones (the point 1), so a bias added to coefficient (1, 1) of every tile reaches
        all 36 outputs: one small addition instead of a pass over the output."""
        m, n = OUTPUT_BLOCK, INPUT_BLOCK
        size = product[0, 0].numel()
        product[1, 1] += bias
        by_columns = torch.bmm(_A_T.expand(n, m, n), product.view(n, n, size), out=self.area("columns", n, m, size))
        output = self.area("output", m, m, size)
        torch.bmm(_A_T.expand(m, m, n), by_columns.transpose(0, 1), out=output)  # [j, i, tiles * c]
        return output.view(m, m, band[1] - band[0], self.cols, product.shape[-1])

    def write(self, output: torch.Tensor, buffer: torch.Tensor, band: tuple[int, int]) -> None:
        """A band's output (as :meth:`output_transform` lays it out) into its place in a padded buffer, and zero
        what its whole tiles wrote past the image: the next convolution reads that as padding."""
        m, (first, last) = OUTPUT_BLOCK, band
        rows = slice(1 + m * first, 1 + m * last)
        place = buffer[rows, 1 : 1 + m * self.cols]
        place.view(last - first, m, self.cols, m, buffer.shape[-1]).permute(3, 1, 0, 2, 4).copy_(output)
        buffer[rows, self.width + 1 :].zero_()
        if last == self.rows:
            buffer[self.height + 1 :].zero_()


def _batched(tensor: torch.Tensor) -> torch.Tensor:
    """(n, n, rows, cols) -> (n * n, rows, cols): the 64 coefficients as one batch of matrix products."""
    return tensor.view(INPUT_BLOCK * INPUT_BLOCK, *tensor.shape[2:])


class WinogradConv:
    """A 3x3 convolution (stride 1, padding 1) with transformed weights, split by the features it reads (the
    pieces of a concatenation) and optionally scaled (a residual scale folded in)."""

    def __init__(self, conv: nn.Conv2d, widths: list[int] | None = None, scale: float = 1.0) -> None:
        if conv.kernel_size != (3, 3) or conv.stride != (1, 1) or conv.padding != (1, 1) or conv.groups != 1:
            raise ValueError(f"Winograd F(6, 3) covers 3x3 convolutions of stride 1 and padding 1, not {conv}")
        widths = widths or [conv.in_channels]
        edges = [sum(widths[:i]) for i in range(len(widths) + 1)]
        u = transform_weight(conv.weight) * scale
        self.pieces = [u[:, :, start:end].contiguous() for start, end in itertools.pairwise(edges)]
        bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
        self.bias = bias.detach().float().cpu() * scale

    def band(self, tiling: Tiling, transformed: list[torch.Tensor], band: tuple[int, int]) -> torch.Tensor:
        """One band of the output, in :meth:`Tiling.output_transform`'s layout, from the input transforms of the
        pieces (each (n, n, tiles of the band, C))."""
        first = _batched(transformed[0])
        product = tiling.area("product", first.shape[0], first.shape[1], self.bias.numel())
        # over a concatenation: the sum of the products with each piece's transform, accumulated in place
        torch.bmm(first, _batched(self.pieces[0]), out=product)
        for feature, piece in zip(transformed[1:], self.pieces[1:], strict=True):
            product.baddbmm_(_batched(feature), _batched(piece))
        return tiling.output_transform(product.view(INPUT_BLOCK, INPUT_BLOCK, *product.shape[1:]), self.bias, band)

    def __call__(self, tiling: Tiling, source: torch.Tensor, target: torch.Tensor, leaky: bool) -> torch.Tensor:
        """target = conv(source), through LeakyReLU(0.2) if ``leaky``, padded buffers; returns ``target``."""
        for band in tiling.bands:
            transformed = tiling.input_transform(source, band, "source")  # used at once: one work area
            _write(tiling, self.band(tiling, [transformed], band), target, band, leaky)
        return target


def _write(tiling: Tiling, output: torch.Tensor, buffer: torch.Tensor, band: tuple[int, int], leaky: bool) -> None:
    if leaky:
        F.leaky_relu_(output, 0.2)
    tiling.write(output, buffer, band)


def _few_channel_conv(buffer: torch.Tensor, conv: nn.Conv2d, height: int, width: int) -> torch.Tensor:
    """A 3x3 convolution to a few channels (conv_last: 64 -> 3) over a padded buffer, as (C_out, H, W).

    One matrix product gives every pixel's contribution to each of the 9 taps, (pixels x 64) @ (64 x 9 C_out),
    and the output is the sum of the 9 shifted tap planes. A product with 27 columns runs near the matrix unit's
    speed, where a convolution with 3 output channels (and its reorders) took several times as long."""
    rows, cols, channels = buffer.shape
    out_channels = conv.out_channels
    weight = conv.weight.detach().permute(1, 2, 3, 0).reshape(channels, 9 * out_channels)  # [c, (dy, dx, k)]
    taps = (buffer.view(rows * cols, channels) @ weight).view(rows, cols, 3, 3, out_channels)
    out = taps[:height, :width, 0, 0].clone()
    for dy, dx in itertools.product(range(3), range(3)):
        if dy or dx:
            out += taps[dy : dy + height, dx : dx + width, dy, dx]
    if conv.bias is not None:
        out += conv.bias.detach()
    return out.permute(2, 0, 1)


class WinogradDenseBlock:
    """One residual dense block: its five convolutions, the last scaled by the block's residual scale."""

    def __init__(self, block: ResidualDenseBlock) -> None:
        convs = [block.conv1, block.conv2, block.conv3, block.conv4, block.conv5]
        self.widths = [block.conv1.in_channels] + [c.out_channels for c in convs[:-1]]  # x, x1, ..., x4
        self.convs = [WinogradConv(conv, self.widths[: k + 1]) for k, conv in enumerate(convs[:-1])]
        self.last = WinogradConv(convs[-1], self.widths, scale=block.res_scale)

    def __call__(self, tiling: Tiling, source: torch.Tensor, target: torch.Tensor,
                 features: list[torch.Tensor]) -> None:
        """target = source + res_scale * block(source), both padded buffers; ``features`` are the four buffers of
        the intermediate features (their borders stay zero).

        Each convolution runs over the whole feature map at once, not in bands: its transformed weights are 7x
        the direct ones (470 MB for RRDBNet-23) and are read from memory once per band, which cost more than
        bands saved (in bands of 96 tiles, 1.4x slower at LR 256x256 on a development machine)."""
        whole = (0, tiling.rows)
        transformed: list[torch.Tensor] = []
        for k, (conv, source_k, target_k) in enumerate(zip([*self.convs, self.last], [source, *features],
                                                           [*features, target], strict=True)):
            # the newest feature's transform, made once: every later conv of the block reuses it
            transformed.append(tiling.input_transform(source_k, whole, f"x{k}"))
            _write(tiling, conv.band(tiling, transformed, whole), target_k, whole, leaky=k < len(self.convs))
        target.add_(source)


class WinogradRRDBNet(nn.Module):
    """An :class:`RRDBNet` with every 3x3 convolution but the first and last (3 channels) as Winograd
    convolutions, on channels-last buffers from the first feature map to the last. Inference on the CPU in
    float32 only: the transformed weights are a snapshot (:func:`winograd_network` rebuilds them when the
    parameters change)."""

    def __init__(self, network: RRDBNet) -> None:
        super().__init__()
        # a weak reference: the cache below is keyed by the network, and a strong one would keep it alive forever
        self._network = weakref.ref(network)
        rrdbs = [rrdb for rrdb in network.body if isinstance(rrdb, RRDB)]
        self.growth = rrdbs[0].rdb1.conv1.out_channels
        self.blocks = [[WinogradDenseBlock(rdb) for rdb in (rrdb.rdb1, rrdb.rdb2, rrdb.rdb3)] for rrdb in rrdbs]
        self.res_scales = [rrdb.res_scale for rrdb in rrdbs]
        self._workspace_size: tuple[int, ...] = ()
        self._workspace: dict[tuple[int, int], Tiling] = {}
        self.conv_body = WinogradConv(network.conv_body)
        self.nearest = network.upsampler == "nearest"
        if self.nearest:  # sub-pixel upsamplers keep the network's own tail
            self.conv_up = [WinogradConv(getattr(network, f"conv_up{i}")) for i in range(1, len(network.factors) + 1)]
            self.conv_hr = WinogradConv(network.conv_hr)

    def _tiling(self, height: int, width: int) -> Tiling:
        """The tiling of one feature-map size, with its buffers and work areas, kept from call to call for the
        input size last seen (a tiled upscale or a benchmark repeats one size): like ncnn's pool of blobs, it
        saves allocating, and page-faulting, hundreds of megabytes per image."""
        if (height, width) not in self._workspace:
            self._workspace[height, width] = Tiling(height, width)
        return self._workspace[height, width]

    def trunk(self, tiling: Tiling, feature: torch.Tensor) -> torch.Tensor:
        """feature + conv_body(body(feature)) on a padded buffer, returned in one of the tiling's buffers."""
        channels = feature.shape[-1]
        trunk, current, other = (tiling.buffer(name, channels) for name in ("trunk", "current", "other"))
        trunk.copy_(feature)
        features = [tiling.buffer(f"x{k}", self.growth) for k in range(1, 5)]
        for blocks, res_scale in zip(self.blocks, self.res_scales, strict=True):
            blocks[0](tiling, trunk, current, features)
            blocks[1](tiling, current, other, features)
            blocks[2](tiling, other, current, features)
            trunk.add_(current, alpha=res_scale)
        return self.conv_body(tiling, trunk, current, leaky=False).add_(feature)

    def tail(self, network: RRDBNet, feature: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Upsampling, conv_hr and conv_last on the trunk's output (an LR padded buffer), in bands of LR rows, each
        with TAIL_HALO rows of context that are computed and cropped: the high-resolution feature maps, the
        largest of the network, never exist whole, and a band's stay in the caches."""
        scale = prod(network.factors)
        out = torch.empty(network.conv_last.out_channels, height * scale, width * scale)
        rows = max(8, TAIL_PIXELS // width)
        for top in range(0, height, rows):
            bottom = min(top + rows, height)
            first, last = max(top - TAIL_HALO, 0), min(bottom + TAIL_HALO, height)
            band = self._tail_band(network, feature[first + 1 : last + 1, 1 : width + 1])
            out[:, top * scale : bottom * scale] = band[:, (top - first) * scale : (bottom - first) * scale]
        return out

    def _tail_band(self, network: RRDBNet, pixels: torch.Tensor) -> torch.Tensor:
        """The tail on one band of LR pixels (rows, W, C), zero-padded as if it were the whole image."""
        channels = pixels.shape[-1]
        for r, conv in zip(network.factors, self.conv_up, strict=True):
            height, width = pixels.shape[0] * r, pixels.shape[1] * r
            tiling = self._tiling(height, width)
            upsampled = tiling.buffer("upsampled", channels)
            # nearest neighbour: each pixel copied into an r x r block, in one strided pass
            blocks = upsampled[1 : height + 1, 1 : width + 1].view(height // r, r, width // r, r, channels)
            blocks.copy_(pixels[:, None, :, None].expand(blocks.shape))
            feature = conv(tiling, upsampled, tiling.buffer("feature", channels), leaky=True)
            pixels = feature[1 : height + 1, 1 : width + 1]
        hr = self.conv_hr(tiling, feature, upsampled, leaky=True)
        return _few_channel_conv(hr, network.conv_last, tiling.height, tiling.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        network = self._network()
        assert network is not None, "the network this Winograd form was built from is gone"
        feats, (h, w) = network.head(x)
        outputs = []
        if self._workspace_size != tuple(feats.shape[-2:]):  # kept for one input size: see _tiling
            self._workspace_size, self._workspace = tuple(feats.shape[-2:]), {}
        for feat in feats:  # one image at a time: the buffers are (H, W, C)
            tiling = self._tiling(*feat.shape[1:])
            buffer = tiling.buffer("head", feat.shape[0])
            buffer[1 : tiling.height + 1, 1 : tiling.width + 1].copy_(feat.permute(1, 2, 0))
            buffer = self.trunk(tiling, buffer)
            if self.nearest:
                outputs.append(self.tail(network, buffer, tiling.height, tiling.width))
            else:  # the network's own sub-pixel tail
                feature = buffer[1 : tiling.height + 1, 1 : tiling.width + 1].permute(2, 0, 1)[None]
                outputs.append(network.tail(feature, (h, w))[0])
        out = torch.stack(outputs)
        return out[..., : h * network.scale, : w * network.scale] if network.unshuffle > 1 else out


_NETWORKS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], WinogradRRDBNet]] = weakref.WeakKeyDictionary()


def winograd_network(model: nn.Module) -> nn.Module:
    """The Winograd form of an RRDBNet on the CPU in float32, cached per network and rebuilt when any parameter
    changes (an optimiser step bumps its version); any other network comes back as it is."""
    if not isinstance(model, RRDBNet) or any(p.device.type != "cpu" or p.dtype != torch.float32
                                             for p in model.parameters()):
        return model
    versions = tuple(p._version for p in model.parameters()) + tuple(p.data_ptr() for p in model.parameters())
    cached = _NETWORKS.get(model)
    if cached is None or cached[0] != versions:
        cached = versions, WinogradRRDBNet(model)
        _NETWORKS[model] = cached
    return cached[1]
